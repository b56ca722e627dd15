import type {FamilyMember} from '../target/family.js'

import {finish} from './outcome.js'
import {failingIndex, type Failure, type RestartState} from './state.js'
import {soakStartedMessage} from './wording.js'

/**
 * --soak: a restart the kernel agrees is done is watched a while longer before it counts. A new
 * worker that dies meanwhile (a crash loop, Puma's boot timeout, an app that falls over on its
 * first requests) fails it with exit 5; the master's exit is exit 7 as in any other step.
 */

/** How often the master's children are looked at while soaking: the liveness poll's own pace. */
export const SOAK_LOOK_MS = 250

/** The restart is done: finished, or first soaked when --soak asks for it (never for a start). */
export function doneOrSoak(state: RestartState, at: number): RestartState {
  const soakMs = state.plan.soakMs ?? 0
  if (soakMs <= 0 || state.plan.start) return finish(state, at, 'done')
  return {
    ...state,
    status: 'soaking',
    verifying: undefined,
    soak: {since: at, endsAt: at + soakMs},
    notices: [...state.notices, {kind: 'restart-started', message: soakStartedMessage(soakMs)}],
  }
}

export function soaking(state: RestartState): state is RestartState & {soak: NonNullable<RestartState['soak']>} {
  return state.status === 'soaking' && state.soak !== undefined
}

/** The soak's end, or sooner the next look at the kernel. */
export function soakWakeAt(state: RestartState): number | undefined {
  if (!soaking(state)) return undefined
  const {askedAt, endsAt} = state.soak
  return Math.min(endsAt, (askedAt ?? state.now) + SOAK_LOOK_MS)
}

/** A tick while soaking: its end is success; the restart's --timeout no longer applies. */
export function onSoakTick(state: RestartState, at: number): RestartState {
  return soaking(state) && at >= state.soak.endsAt ? finish(state, at, 'done') : state
}

/**
 * The kernel's look while soaking: a counted new worker that is gone died. Its error lines are read
 * for a moment (the failing status's grace) before the outcome; Puma is respawning it meanwhile.
 */
export function onSoakFamily(state: RestartState, members: FamilyMember[] | undefined, at: number): RestartState {
  if (!soaking(state)) return state
  const alive = new Set(members?.map((member) => member.pid))
  const dead = members && state.booted.find((record) => !alive.has(record.newPid))
  if (!dead) return {...state, soak: {...state.soak, askedAt: at}}
  const failure: Failure = {
    cause: 'died-in-soak',
    index: failingIndex(state, dead.index),
    pid: dead.newPid,
    since: at,
  }
  return {
    ...state,
    status: 'failing',
    failure,
    booted: state.booted.filter((record) => record !== dead),
    collecting: {from: 'worker', pid: dead.newPid},
  }
}
