import type {FamilyMember} from '../target/family.js'

import {oldPids, type RestartState} from './state.js'

/**
 * --stall-timeout: a restart that makes no progress (no old worker stopped, none booted, no phase
 * line) for that long ends with exit 6, naming the step it is stuck in: an old worker draining
 * (stopped, still alive: keep-alive connections, Puma's worker_shutdown_timeout) or a new worker
 * booting. The kernel's view of the master's children tells the two apart where the log cannot.
 */

export interface Stall {
  /** How long the stuck step has lasted, in seconds (0.1 s). */
  forSeconds: number
  pid?: number
  seconds: number
  step: 'booting' | 'draining' | 'signal'
}

/** A step forward: a phase line, a new old worker stopped, a worker booted. */
export function progressed(state: RestartState, at: number): RestartState {
  return state.plan.stallMs ? {...state, progressAt: at} : state
}

/** When the restart counts as stalled, unless something moves first (undefined: not watched now). */
export function stallEndsAt(state: RestartState): number | undefined {
  const {stallMs} = state.plan
  if (!stallMs || state.verifying || (state.status !== 'restarting' && state.status !== 'waiting')) return undefined
  return (state.progressAt ?? state.plan.startedAt) + stallMs
}

/** The stall's record when the restart has stalled at `at`, else undefined. */
export function stallAt(state: RestartState, at: number, members?: FamilyMember[]): Stall | undefined {
  const endsAt = stallEndsAt(state)
  if (endsAt === undefined || at < endsAt) return undefined
  const since = state.progressAt ?? state.plan.startedAt
  const seconds = (state.plan.stallMs ?? 0) / 1000
  const forSeconds = Math.round((at - since) / 100) / 10
  if (state.status === 'waiting') return {step: 'signal', seconds, forSeconds}
  const latestFirst = [...state.stoppedPids].reverse()
  const alive = new Set(members?.filter((member) => !member.zombie).map((member) => member.pid))
  const draining = latestFirst.find((pid) => alive.has(pid))
  if (draining !== undefined) return {step: 'draining', pid: draining, seconds, forSeconds}
  const counted = new Set([...oldPids(state), ...state.bootPids])
  const booting =
    members?.find((member) => member.worker && !member.zombie && !counted.has(member.pid))?.pid ??
    state.workerStarts.find((start) => !state.bootPids.includes(start.pid))?.pid
  // Without the kernel a stopped worker not yet replaced may still be draining: the log says only that it was stopped.
  const unreplaced = latestFirst.find((pid) => !state.booted.some((record) => record.oldPid === pid))
  if (booting === undefined && members === undefined && unreplaced !== undefined)
    return {step: 'draining', pid: unreplaced, seconds, forSeconds}
  return {step: 'booting', pid: booting, seconds, forSeconds}
}
