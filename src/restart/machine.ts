import type {LogEvent, PumaEventKind} from '../log/events.js'
import type {FamilyMember} from '../target/family.js'

import {
  collectErrorLine,
  contradicted,
  failureGraceEndsAt,
  masterError,
  onEarlyTermination,
  onRubyException,
  onWorkerBootError,
  onWorkerStarting,
  onWorkerTimedOut,
  withTimeoutEvidence,
} from './failure-rules.js'
import {finish} from './outcome.js'
import {doneOrSoak, onSoakFamily, onSoakTick, soaking, soakWakeAt} from './soak.js'
import {progressed, stallAt, stallEndsAt} from './stall.js'
import {
  addOnce,
  bootedCount,
  isComplete,
  neededIndices,
  type Notice,
  oldPidFor,
  oldPids,
  type RestartInput,
  type RestartKind,
  type RestartProgress,
  type RestartState,
  shapeOf,
  type WorkerRecord,
} from './state.js'
import {familyAgrees, type PidWitness} from './witness.js'
import {
  bootMessage,
  FALLBACK_WARNING,
  HOT_RESTART_STARTED,
  overlappingPhaseWarning,
  phaseStartedMessage,
  progressLabel,
  skippedPhaseWarning,
  UNANNOUNCED_HOT_WARNING,
} from './wording.js'

/** How often the kernel is asked again while it does not yet agree that a restart is done. */
export const FAMILY_RECHECK_MS = 50

/**
 * The restart wait as a pure state machine: log events, clock ticks and "the master exited" in,
 * state out, until the state carries an outcome. No I/O and no clock: time only arrives as `at`
 * (milliseconds, the same clock as `plan.startedAt`). The transitions live here; when a restart has
 * failed is failure-rules.ts, every sentence is wording.ts, the outcome record is outcome.ts.
 */

export {
  FAILURE_DETAIL_GRACE_MS,
  MAX_ERROR_LINES,
  SILENT_FAILURE_EXTRA_STARTS,
  SILENT_FAILURE_TERMINATIONS,
  SUSPECT_BOOT_FAILURES,
} from './failure-rules.js'
export {
  type FailureCause,
  initialState,
  type Notice,
  type OldWorker,
  type PendingWorker,
  type RestartInput,
  type RestartKind,
  type RestartOutcome,
  type RestartPlan,
  type RestartProgress,
  type RestartResult,
  type RestartShape,
  type RestartState,
  type RestartStatus,
  type Serving,
  type WorkerRecord,
} from './state.js'

export function reduce(state: RestartState, input: RestartInput): RestartState {
  if (state.outcome) return state.notices.length === 0 ? state : {...state, notices: []}
  const next: RestartState = {...state, notices: [], now: Math.max(state.now, input.at)}
  switch (input.type) {
    case 'family': {
      return onFamily(onTick(next, input.at, input.members), input, input.at)
    }

    case 'log': {
      return onLog(next, input.event, input.at, input.witness)
    }

    case 'master-exited': {
      return finish(next, input.at, 'master-died')
    }

    case 'tick': {
      return onTick(next, input.at)
    }

    default: {
      const unhandled: never = input
      return unhandled
    }
  }
}

/**
 * When the machine next needs a tick, on the clock of `at`: the deadline, or sooner the end of a
 * failing worker's grace for its error lines, or the next look at the kernel while verifying.
 * Undefined once there is an outcome. Nothing else in the machine depends on time passing without input.
 */
export function nextWakeAt(state: RestartState): number | undefined {
  if (state.outcome) return undefined
  const soakWake = soakWakeAt(state)
  if (soakWake !== undefined) return soakWake
  const deadline = state.plan.startedAt + state.plan.timeoutMs
  const verifyAt = state.verifying && (state.verifying.askedAt ?? state.now - FAMILY_RECHECK_MS) + FAMILY_RECHECK_MS
  return Math.min(deadline, failureGraceEndsAt(state) ?? deadline, verifyAt || deadline, stallEndsAt(state) ?? deadline)
}

/** The wake the machine asks for is a look at the master's family (else a plain tick). */
export function wantsFamily(state: RestartState): boolean {
  // A stall is named from the kernel's view too (a stopped worker still draining, a new one booting).
  const watched = state.verifying !== undefined || soaking(state) || stallEndsAt(state) !== undefined
  return watched && !state.outcome
}

export function progress(state: RestartState): RestartProgress {
  const expected = state.mode === 'single' && state.kind === 'hot' ? 0 : neededIndices(state).length
  return {
    status: state.status,
    restart: shapeOf(state),
    phase: state.kind === 'hot' ? (state.status === 'waiting' ? undefined : 0) : state.phase,
    booted: bootedCount(state),
    expected,
    elapsedMs: state.now - state.plan.startedAt,
    label: progressLabel(state),
  }
}

function onTick(state: RestartState, at: number, members?: FamilyMember[]): RestartState {
  if (soaking(state)) return onSoakTick(state, at)
  const timedOut = at - state.plan.startedAt >= state.plan.timeoutMs
  const graceEndsAt = failureGraceEndsAt(state)
  if (graceEndsAt !== undefined && (timedOut || at >= graceEndsAt)) return finish(state, at, 'worker-failed')
  const stall = timedOut ? undefined : stallAt(state, at, members)
  if (stall) return finish({...state, stall}, at, 'timed-out')
  return timedOut ? finish(withTimeoutEvidence(state), at, 'timed-out') : state
}

type EventOf<K extends PumaEventKind> = Extract<LogEvent, {kind: K}>

/**
 * What a log event does, by kind. `master`: only the master's lines count (its `[pid] ` prefix in
 * cluster mode); `restarting`: only once Puma has begun the restart. Kinds not listed change
 * nothing. `witness` is the kernel's word on the PID the line names, when there is one.
 */
type Rule<K extends PumaEventKind> = {
  master?: true
  on: (state: RestartState, event: EventOf<K>, at: number, witness?: PidWitness) => RestartState
  restarting?: true
}

const RULES: {[K in PumaEventKind]?: Rule<K>} = {
  'app-load-error': {master: true, on: (state, event) => masterError(state, event.line)},
  fatal: {master: true, on: (state, event) => masterError(state, event.line)},
  // A hot restart re-reads the config: the new banner says what to wait for.
  'banner-start': {master: true, restarting: true, on: (state, event) => whileHot(state, {mode: event.mode})},
  'banner-workers': {master: true, restarting: true, on: (state, event) => whileHot(state, {workers: event.workers})},
  // A start knows Puma's version only from its banner; the failure rules read it (what each version logs).
  'banner-version': {master: true, restarting: true, on: onBannerVersion},
  'hot-restart': {master: true, on: (state, _event, at) => onHotRestart(state, at)},
  // The master is about to stop on its own: if it exits now, that is why (the verdict stays exit 7: nothing serves).
  'idle-stop': {master: true, on: (state, event) => ({...state, idleStop: event.line})},
  'phase-start': {master: true, on: onPhaseStart},
  'phased-fallback': {master: true, on: onFallback},
  ready: {master: true, restarting: true, on: onReady},
  'ruby-exception': {on: onRubyException},
  'worker-boot-error': {restarting: true, on: onWorkerBootError},
  'worker-booted': {master: true, on: onBoot},
  'worker-early-termination': {restarting: true, on: onEarlyTermination},
  'worker-starting': {restarting: true, on: onWorkerStarting},
  // 5.0+ repeats the line while the worker drains: only a newly stopped worker is progress.
  'worker-stopping': {
    master: true,
    on: (state, event, at) =>
      state.stoppedPids.includes(event.workerPid)
        ? state
        : progressed({...state, stoppedPids: addOnce(state.stoppedPids, event.workerPid)}, at),
  },
  'worker-timed-out': {master: true, restarting: true, on: onWorkerTimedOut},
}

function onLog(state: RestartState, event: LogEvent, at: number, witness?: PidWitness): RestartState {
  // The runner starts reading at the log's end before signalling; this guards against its clock.
  if (at < state.plan.startedAt) return state
  const {consumed, state: next} = collectErrorLine(state, event, at)
  // A failing worker's lines are all that counts until its failure is final.
  if (consumed || next.status === 'failing') return next
  const rule = RULES[event.kind] as Rule<PumaEventKind> | undefined
  if (!rule) return next
  if (rule.master && !isFromMaster(next, event)) return next
  if (rule.restarting && next.status !== 'restarting') return next
  return rule.on(next, event, at, witness)
}

/**
 * A line is the master's when it carries the master's `[pid] ` prefix: in cluster mode Puma writes
 * it on every line, and app output has none (or a forged one, which the kernel then checks). Single
 * mode has no prefix: its lines are checked against the kernel where they matter (onReady).
 */
function isFromMaster(state: RestartState, event: LogEvent): boolean {
  const {masterPid} = state.plan
  // masterPid 0: only a control URL is known, so any prefix may be the master's; /stats confirms the verdict.
  if (masterPid === 0) return true
  if (event.prefixPid === masterPid) return true
  return state.mode === 'single' && event.prefixPid === undefined
}

/** Single mode's hot restart is done when it serves again: the kernel must show a server thread started since the signal (onFamily). */
function onReady(state: RestartState, _event: LogEvent, at: number): RestartState {
  return state.kind === 'hot' && state.mode === 'single' ? complete(state, at) : state
}

function whileHot(state: RestartState, change: Pick<RestartState, 'mode'> | Pick<RestartState, 'workers'>) {
  return state.kind === 'hot' ? {...state, ...change} : state
}

function onBannerVersion(state: RestartState, event: EventOf<'banner-version'>): RestartState {
  return state.plan.start && state.plan.version === undefined
    ? {...state, plan: {...state.plan, version: event.version}}
    : state
}

function onFallback(state: RestartState): RestartState {
  if (state.kind !== 'phased' || state.status !== 'waiting') return state
  return {
    ...state,
    kind: 'hot',
    fallbackSeen: true,
    warnings: [...state.warnings, FALLBACK_WARNING],
    notices: [{kind: 'warning', message: FALLBACK_WARNING}],
  }
}

function onPhaseStart(state: RestartState, event: EventOf<'phase-start'>, at: number): RestartState {
  const {previousPhase} = state.plan
  // A phase at or below one already known comes from an earlier restart.
  if (state.kind !== 'phased' || event.phase <= (state.phase ?? previousPhase ?? -1)) return state
  const newWarnings: string[] = []
  if (state.phase !== undefined) newWarnings.push(overlappingPhaseWarning(event.phase, state.phase))
  else if (previousPhase !== undefined && event.phase > previousPhase + 1)
    newWarnings.push(skippedPhaseWarning(event.phase, previousPhase))
  const refork = event.refork || state.plan.refork === true
  const message = phaseStartedMessage(event.phase, refork)
  const started = restartBegan(state, at, {phase: event.phase, refork, message, newWarnings})
  return isComplete(started) ? complete(started, at) : started
}

function onHotRestart(state: RestartState, at: number): RestartState {
  const newWarnings = state.kind === 'phased' ? [UNANNOUNCED_HOT_WARNING] : []
  return restartBegan(state, at, {kind: 'hot', phase: 0, refork: false, message: HOT_RESTART_STARTED, newWarnings})
}

interface Began {
  kind?: RestartKind
  message: string
  newWarnings: string[]
  phase: number
  refork: boolean
}

/** Puma began a restart (a phase line, or a hot restart's marker): boots are counted from here, and new warnings are told. */
function restartBegan(state: RestartState, at: number, began: Began): RestartState {
  const {message, newWarnings, ...change} = began
  return {
    ...progressed(state, at),
    ...change,
    status: 'restarting',
    startMarkerAt: at,
    lastBootAt: undefined,
    booted: [],
    warnings: [...state.warnings, ...newWarnings],
    notices: [
      {kind: 'restart-started', message},
      ...newWarnings.map((warning): Notice => ({kind: 'warning', message: warning})),
    ],
  }
}

function onBoot(state: RestartState, event: EventOf<'worker-booted'>, at: number, witness?: PidWitness): RestartState {
  // Booted: a live worker of the master that did not exist at the signal (that it serves is checked before done).
  const checked = contradicted(state, event.workerPid, witness, ['new', 'old'])
  if (checked.untrue) return checked.state
  const seen = {
    ...checked.state,
    bootPids: addOnce(state.bootPids, event.workerPid),
    workers: clusterSize(state, event, witness),
  }
  if (state.status !== 'restarting' || state.phase === undefined) return seen
  if (witness?.standing === 'old') return seen
  // Boot lines of other phases are respawns of old workers; old PIDs cannot be a hot restart's new workers.
  if (event.phase !== state.phase) return seen
  if (state.kind === 'hot' && oldPids(state).includes(event.workerPid)) return seen
  if (state.booted.some((record) => record.newPid === event.workerPid)) return seen

  // Phased restarts replace workers one at a time, hot restarts boot them all at once.
  const stepStart =
    (state.kind === 'phased' ? state.lastBootAt : undefined) ?? state.startMarkerAt ?? state.plan.startedAt
  const record: WorkerRecord = {
    index: event.index,
    oldPid: oldPidFor(state, event.index),
    newPid: event.workerPid,
    bootSeconds: event.bootSeconds ?? Math.round((at - stepStart) / 10) / 100,
  }
  const booted = [...state.booted.filter((r) => r.index === undefined || r.index !== record.index), record]
  const next: RestartState = {
    ...progressed(seen, at),
    booted,
    lastBootAt: at,
    notices: [...seen.notices, {kind: 'worker-booted', message: bootMessage(seen, record), worker: record}],
  }
  return isComplete(next) ? complete(next, at) : next
}

/**
 * A boot line's index beyond the cluster known so far (a worker dead at the signal) widens it, when
 * the worker's own title says that index: the line alone could be anyone's.
 */
function clusterSize(state: RestartState, event: EventOf<'worker-booted'>, witness?: PidWitness): number {
  const index = witness ? (witness.index === event.index ? witness.index : undefined) : event.index
  return state.kind === 'phased' && index !== undefined ? Math.max(state.workers, index + 1) : state.workers
}

/** The log shows the restart done: with a kernel to ask, it must agree first (onFamily). */
function complete(state: RestartState, at: number): RestartState {
  return state.plan.kernel ? {...state, verifying: {since: at}} : doneOrSoak(state, at)
}

/**
 * The kernel's answer while verifying: a counted worker that is gone is not booted after all (its
 * respawn will boot); a worker of the master that was not counted (an old one not yet replaced, or
 * one still booting) means not yet, and a wider cluster when its index is beyond it.
 */
function onFamily(
  state: RestartState,
  {master, members}: {master?: PidWitness; members?: FamilyMember[]},
  at: number,
): RestartState {
  if (soaking(state)) return onSoakFamily(state, members, at)
  if (!state.verifying || state.outcome) return state
  if (state.mode === 'single') {
    // No workers: the master itself must serve again, with a server thread it did not have at the signal.
    if (master?.serving === false) return {...state, verifying: {...state.verifying, askedAt: at}}
    return doneOrSoak(state, at)
  }

  if (!members) return doneOrSoak(state, at)
  const keep = state.refork ? [oldPidFor(state, 0)].filter((pid) => pid !== undefined) : []
  const {missing, unexpected} = familyAgrees(
    members,
    state.booted.map((record) => record.newPid),
    keep,
  )
  if (missing.length > 0) {
    const booted = state.booted.filter((record) => !missing.includes(record.newPid))
    return {...state, booted, verifying: undefined}
  }

  if (unexpected.length === 0) return doneOrSoak(state, at)
  const widest = Math.max(state.workers, ...unexpected.map((member) => (member.index ?? -1) + 1))
  const verifying = {...state.verifying, askedAt: at, unexpected: unexpected.map((member) => member.pid)}
  const widened: RestartState = {...state, workers: state.kind === 'phased' ? widest : state.workers, verifying}
  return isComplete(widened) ? widened : {...widened, verifying: undefined}
}
