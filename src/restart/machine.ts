import type {LogEvent} from '../log/events.js'

import {EXIT, type ExitCode} from '../errors.js'
import {splitPrefix} from '../log/parse.js'

/**
 * The restart wait as a pure state machine: log events, clock ticks and "the master exited" in,
 * state out, until the state carries an outcome. No I/O and no clock: time only arrives as `at`
 * (milliseconds, the same clock as `plan.startedAt`).
 */

/**
 * How long to keep reading a failed worker's error lines after `! Unable to start worker` when its
 * `Early termination of worker` does not come: Puma writes them back to back, so 250 ms is plenty.
 */
export const FAILURE_DETAIL_GRACE_MS = 250

/**
 * Early terminations of never-booted workers that mean "this boot keeps failing" on Pumas that log
 * no reason (before 5.3.2). One alone also happens when the master stops a worker that is still
 * booting (a second USR1, TTOU). 5.0–5.3.1 respawn a failing worker at once, so the third comes
 * within milliseconds; 4.x respawns slowly and may log only one, and there the deadline decides.
 */
export const SILENT_FAILURE_TERMINATIONS = 3

/**
 * Worker starts (`+ Gemfile in context`, logged by prune_bundler setups) beyond the workers still
 * to boot: each extra one is a respawn of a worker that died booting, the only trace of some silent
 * failure loops (#1420). Not 1, for the same reason as early terminations.
 */
export const SILENT_FAILURE_EXTRA_STARTS = 3

/**
 * Boot failures since the restart started that are only *suspects*, not yet a failed restart. A worker
 * forked before the signal still runs the code it loaded: after a rollback from a broken release, the
 * crash loop of the broken code can log `! Unable to start worker` once more just after `Starting phased
 * worker restart`, and Puma's log does not say which phase a failing worker belonged to. The next failure,
 * from another PID, is real. Puma 5.x+ respawns a failed worker at once, so in a genuinely broken release
 * this costs one respawn (about 10–300 ms). Puma replaces workers one at a time and stops at a failing one,
 * so only one worker crash-loops when the rollback's signal comes.
 */
export const SUSPECT_BOOT_FAILURES = 1

/** Puma 6+ logs a whole backtrace (hundreds of lines in a Rails app): keep the report readable. */
export const MAX_ERROR_LINES = 40

export type RestartKind = 'hot' | 'phased'
/** What Puma really does: a USR1 can turn into a refork (fork_worker) or a hot restart (preload). */
export type RestartShape = 'hot' | 'phased' | 'refork'
export type RestartStatus = 'failing' | 'finished' | 'restarting' | 'waiting'
export type RestartResult = 'done' | 'master-died' | 'timed-out' | 'worker-failed'
export type FailureCause = 'boot-error' | 'early-terminations' | 'hung-boot' | 'repeated-starts'

export interface OldWorker {
  index?: number // undefined for Puma < 2.8, whose worker titles carry no index
  pid: number
}

/** What ctl knew before it sent the signal. */
export interface RestartPlan {
  kind: RestartKind
  masterPid: number
  mode: 'cluster' | 'single'
  oldWorkers: OldWorker[]
  previousPhase?: number
  startedAt: number
  timeoutMs: number
  workers: number
}

// /stats arrives as 'log' inputs too: src/control/stats-events.ts tells its changes as log events.
export type RestartInput =
  {at: number; event: LogEvent; type: 'log'} | {at: number; type: 'master-exited'} | {at: number; type: 'tick'}

export interface WorkerRecord {
  /** From the boot line (Puma 5.3+), else how long ctl saw this step take, rounded to 0.01 s. */
  bootSeconds?: number
  index?: number // undefined for Puma < 2.8 boot lines
  newPid: number
  oldPid?: number
}

export interface PendingWorker {
  index?: number
  oldPid?: number
  /** The old process is gone (stopped for its replacement, or shut down by a hot restart). */
  stopped: boolean
}

/** Who still answers requests while Puma retries a failing worker. */
export interface Serving {
  newWorkers: number
  oldPhase?: number
  oldWorkers: number
  retryingIndex?: number
  sentence: string
}

export interface RestartOutcome {
  durationMs: number
  errorLines: string[]
  errorLinesOmitted: number
  exitCode: ExitCode
  failure?: {cause: FailureCause; index?: number; pid?: number}
  /** How the wait ended: the word deploy tools read from --json. */
  outcome: RestartResult
  pending: PendingWorker[]
  phase?: number
  restart: RestartShape
  serving?: Serving
  /** False when Puma never logged the start of the restart. */
  started: boolean
  summary: string
  warnings: string[]
  workers: WorkerRecord[]
}

/** Something worth a line of its own in plain output, produced by one reduce step. */
export interface Notice {
  kind: 'error' | 'restart-started' | 'warning' | 'worker-booted'
  message: string
  worker?: WorkerRecord
}

export interface RestartProgress {
  booted: number
  elapsedMs: number
  expected: number
  /** For a spinner: "phase 4: 2/3 workers booted". */
  label: string
  phase?: number
  restart: RestartShape
  status: RestartStatus
}

interface Failure {
  cause: FailureCause
  index?: number
  pid?: number
  since: number
}

export interface RestartState {
  /** Workers booted in the restart's phase (at most one record per index). */
  readonly booted: readonly WorkerRecord[]
  /** Every PID that logged a boot line since the signal, in any phase. */
  readonly bootPids: readonly number[]
  /**
   * Following lines that continue an error: the failing worker's, or indented ones after a master error.
   * `suspectSince`: the worker's failure is a suspect (SUSPECT_BOOT_FAILURES), whose lines are only evidence.
   */
  readonly collecting?: {from: 'master'} | {from: 'worker'; pid?: number; suspectSince?: number}
  readonly earlyTerminations: ReadonlyArray<{line: string; pid: number}>
  readonly errorLines: readonly string[]
  readonly errorLinesOmitted: number
  readonly failure?: Failure
  readonly fallbackSeen: boolean
  readonly kind: RestartKind
  readonly lastBootAt?: number
  readonly mode: 'cluster' | 'single'
  readonly notices: readonly Notice[]
  readonly now: number
  readonly outcome?: RestartOutcome
  readonly phase?: number
  readonly plan: RestartPlan
  readonly refork: boolean
  readonly startMarkerAt?: number
  readonly status: RestartStatus
  readonly stoppedPids: readonly number[]
  /** PIDs of the suspect boot failures (undefined for a 2.x–4.1 exception dump, which names no worker). */
  readonly suspects: ReadonlyArray<number | undefined>
  readonly warnings: readonly string[]
  readonly workers: number
  readonly workerStarts: ReadonlyArray<{line: string; pid: number}>
}

export function initialState(plan: RestartPlan): RestartState {
  return {
    plan,
    kind: plan.kind,
    mode: plan.mode,
    workers: plan.workers,
    status: 'waiting',
    refork: false,
    booted: [],
    bootPids: [],
    stoppedPids: [],
    earlyTerminations: [],
    workerStarts: [],
    fallbackSeen: false,
    suspects: [],
    errorLines: [],
    errorLinesOmitted: 0,
    warnings: [],
    notices: [],
    now: plan.startedAt,
  }
}

export function reduce(state: RestartState, input: RestartInput): RestartState {
  if (state.outcome) return state.notices.length === 0 ? state : {...state, notices: []}
  const next: RestartState = {...state, notices: [], now: Math.max(state.now, input.at)}
  switch (input.type) {
    case 'log': {
      return onLog(next, input.event, input.at)
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
 * failing worker's grace for its error lines. Undefined once there is an outcome. Nothing else in
 * the machine depends on time passing without input.
 */
export function nextWakeAt(state: RestartState): number | undefined {
  if (state.outcome) return undefined
  const deadline = state.plan.startedAt + state.plan.timeoutMs
  if (state.status === 'failing' && state.failure)
    return Math.min(deadline, state.failure.since + FAILURE_DETAIL_GRACE_MS)
  return deadline
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

function progressLabel(state: RestartState): string {
  if (state.outcome) return state.outcome.summary
  if (state.status === 'failing')
    return `${workerName(state.failure?.index, state.failure?.pid)} failed to boot: reading its error`
  if (state.status === 'waiting') {
    return state.kind === 'phased' ? 'waiting for Puma to start the phased restart' : 'waiting for Puma to restart'
  }

  const counts = bootCounts(state)
  if (state.kind === 'hot') return state.mode === 'single' ? 'hot restart: loading the app' : `hot restart: ${counts}`
  return `${state.refork ? 'refork, ' : ''}phase ${state.phase}: ${counts}`
}

function onTick(state: RestartState, at: number): RestartState {
  const timedOut = at - state.plan.startedAt >= state.plan.timeoutMs
  if (
    state.status === 'failing' &&
    state.failure &&
    (timedOut || at - state.failure.since >= FAILURE_DETAIL_GRACE_MS)
  ) {
    return finish(state, at, 'worker-failed')
  }

  return timedOut ? finish(state, at, 'timed-out') : state
}

function onLog(state: RestartState, event: LogEvent, at: number): RestartState {
  // The runner starts reading at the log's end before signalling; this guards against its clock.
  if (at < state.plan.startedAt) return state
  if (state.collecting?.from === 'worker' && state.collecting.suspectSince !== undefined) {
    // A suspect's lines are kept as evidence for a while, but every other line counts as usual (a boot line
    // right after it is the restart going on). Its own Early termination ends them.
    const {pid, suspectSince} = state.collecting
    const within = at - suspectSince < FAILURE_DETAIL_GRACE_MS
    if (within && continuesError(state.collecting, event)) return appendError(state, event.line)
    if (!within || (event.kind === 'worker-early-termination' && event.prefixPid === pid))
      state = {...state, collecting: undefined}
  } else if (state.collecting) {
    if (continuesError(state.collecting, event)) return appendError(state, event.line)
    if (state.collecting.from === 'worker') {
      const endsFailure = event.kind === 'worker-early-termination' && event.prefixPid === state.collecting.pid
      return endsFailure ? finish(state, at, 'worker-failed') : state
    }

    state = {...state, collecting: undefined}
  }

  if (state.status === 'failing') return state
  // masterPid 0: only a control URL is known, so any prefix may be the master's.
  const fromMaster =
    event.prefixPid === undefined || state.plan.masterPid === 0 || event.prefixPid === state.plan.masterPid
  const restarting = state.status === 'restarting'
  const hotRestarting = restarting && state.kind === 'hot'
  switch (event.kind) {
    case 'app-load-error':

    case 'fatal': {
      if (!fromMaster) return state
      return masterError(state, event.line)
    }

    // A hot restart re-reads the config: the new banner says what to wait for.
    case 'banner-start': {
      return fromMaster && hotRestarting ? {...state, mode: event.mode} : state
    }

    case 'banner-workers': {
      return fromMaster && hotRestarting ? {...state, workers: event.workers} : state
    }

    case 'hot-restart': {
      return fromMaster ? onHotRestart(state, at) : state
    }

    case 'phase-start': {
      return fromMaster ? onPhaseStart(state, event, at) : state
    }

    case 'phased-fallback': {
      if (!fromMaster || state.kind !== 'phased' || state.status !== 'waiting') return state
      return {
        ...state,
        kind: 'hot',
        fallbackSeen: true,
        warnings: [...state.warnings, FALLBACK_WARNING],
        notices: [{kind: 'warning', message: FALLBACK_WARNING}],
      }
    }

    case 'ready': {
      return fromMaster && hotRestarting && state.mode === 'single' ? finish(state, at, 'done') : state
    }

    // Ruby's own dump of an uncaught exception (stderr). After a master error, or in single mode,
    // it is the master dying; otherwise, mid-restart, it is what a 2.x–4.1 worker leaves when it
    // fails to boot: no Puma line says so. (A suspect's lines, see SUSPECT_BOOT_FAILURES, are no master error.)
    case 'ruby-exception': {
      const afterMasterError = state.errorLines.length > 0 && state.suspects.length === 0
      if (afterMasterError || state.mode === 'single') return masterError(state, event.line)
      if (!restarting) return state
      return onBootFailure(state, event, at, undefined)
    }

    case 'worker-boot-error': {
      if (!restarting || event.prefixPid === state.plan.masterPid) return state
      return onBootFailure(state, event, at, event.prefixPid)
    }

    case 'worker-booted': {
      return fromMaster ? onBoot(state, event, at) : state
    }

    case 'worker-early-termination': {
      return restarting ? onEarlyTermination(state, event, at) : state
    }

    case 'worker-starting': {
      return restarting ? onWorkerStarting(state, event, at) : state
    }

    case 'worker-stopping': {
      return fromMaster ? {...state, stoppedPids: addOnce(state.stoppedPids, event.workerPid)} : state
    }

    case 'worker-timed-out': {
      if (!fromMaster || !restarting || event.during === 'check-in') return state
      // The pre-5.3 wording does not say boot or check-in: only a PID that never booted is a hung boot.
      const knownPids = [...oldPids(state), ...state.bootPids]
      if (event.during === 'unknown' && knownPids.includes(event.workerPid)) return state
      const index = event.index ?? failingIndex(state)
      const failed = {
        ...appendError(state, event.line),
        failure: {cause: 'hung-boot' as const, index, pid: event.workerPid, since: at},
      }
      return finish(failed, at, 'worker-failed')
    }

    default: {
      return state
    }
  }
}

/** A worker failed to boot (`pid` undefined: a 2.x–4.1 exception dump): a suspect first, then a failure. */
function onBootFailure(state: RestartState, event: LogEvent, at: number, pid: number | undefined): RestartState {
  // A process fails only once: the same PID again is a repeated line, not another attempt.
  if (pid !== undefined && state.suspects.includes(pid)) return state
  if (state.suspects.length < SUSPECT_BOOT_FAILURES) {
    const who = pid === undefined ? 'a worker' : `a worker (pid ${pid})`
    const message = `${who} failed to boot; waiting for Puma's next attempt (a worker started before the restart may still run the old code)`
    return {
      ...appendError(state, event.line),
      suspects: [...state.suspects, pid],
      collecting: {from: 'worker', pid, suspectSince: at},
      notices: [{kind: 'warning', message}],
    }
  }

  const failure: Failure = {cause: 'boot-error', index: failingIndex(state), pid, since: at}
  return {
    ...appendError(state, event.line),
    status: 'failing',
    failure,
    collecting: {from: 'worker', pid},
    notices: [
      {
        kind: 'error',
        message: `${workerName(failure.index, failure.pid)} failed to boot: ${withoutPrefix(event.line)}`,
      },
    ],
  }
}

function masterError(state: RestartState, line: string): RestartState {
  return {
    ...appendError(state, line),
    collecting: {from: 'master'},
    notices: [{kind: 'error', message: withoutPrefix(line)}],
  }
}

function onPhaseStart(state: RestartState, event: LogEvent & {kind: 'phase-start'}, at: number): RestartState {
  const {previousPhase} = state.plan
  // A phase at or below one already known comes from an earlier restart.
  if (state.kind !== 'phased' || event.phase <= (state.phase ?? previousPhase ?? -1)) return state
  const warnings = [...state.warnings]
  if (state.phase !== undefined) {
    warnings.push(
      `Another phased restart (phase ${event.phase}) began before phase ${state.phase} finished; waiting for phase ${event.phase}`,
    )
  } else if (previousPhase !== undefined && event.phase > previousPhase + 1) {
    warnings.push(
      `Puma started phase ${event.phase}, not ${previousPhase + 1}: another phased restart or an automatic refork (fork_worker) came in at the same time`,
    )
  }

  const message = `Puma started ${event.refork ? 'a refork' : 'the phased restart'}: phase ${event.phase}`
  const started = restartBegan(state, at, {phase: event.phase, refork: event.refork}, warnings, message)
  return isComplete(started) ? finish(started, at, 'done') : started
}

function onHotRestart(state: RestartState, at: number): RestartState {
  const warnings = state.kind === 'phased' ? [...state.warnings, UNANNOUNCED_HOT_WARNING] : [...state.warnings]
  return restartBegan(state, at, {kind: 'hot', phase: 0, refork: false}, warnings, 'Puma is restarting (hot restart)')
}

/** Puma began a restart (a phase line, or a hot restart's marker): boots are counted from here, and new warnings are told. */
function restartBegan(
  state: RestartState,
  at: number,
  change: Pick<RestartState, 'phase' | 'refork'> & {kind?: RestartKind},
  warnings: string[],
  message: string,
): RestartState {
  return {
    ...state,
    ...change,
    status: 'restarting',
    startMarkerAt: at,
    lastBootAt: undefined,
    booted: [],
    warnings,
    notices: [
      {kind: 'restart-started', message},
      ...warnings.slice(state.warnings.length).map((warning): Notice => ({kind: 'warning', message: warning})),
    ],
  }
}

function onBoot(state: RestartState, event: LogEvent & {kind: 'worker-booted'}, at: number): RestartState {
  const seen = {...state, bootPids: addOnce(state.bootPids, event.workerPid)}
  if (state.status !== 'restarting' || state.phase === undefined) return seen
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
    ...seen,
    booted,
    lastBootAt: at,
    notices: [{kind: 'worker-booted', message: bootMessage(seen, record), worker: record}],
  }
  return isComplete(next) ? finish(next, at, 'done') : next
}

function onEarlyTermination(state: RestartState, event: LogEvent, at: number): RestartState {
  const pid = event.prefixPid
  if (pid === undefined || pid === state.plan.masterPid) return state
  const repeated = state.earlyTerminations.some((t) => t.pid === pid)
  // A suspect's own end is no silent failure: its reason was logged.
  if (oldPids(state).includes(pid) || state.bootPids.includes(pid) || repeated || state.suspects.includes(pid))
    return state

  const earlyTerminations = [...state.earlyTerminations, {pid, line: event.line}]
  const next: RestartState = {
    ...state,
    earlyTerminations,
    notices: [
      {kind: 'error', message: `a new worker (pid ${pid}) ended while booting ("Early termination of worker")`},
    ],
  }
  if (earlyTerminations.length < SILENT_FAILURE_TERMINATIONS) return next
  const failed = earlyTerminations.reduce((s, t) => appendError(s, t.line), next)
  return finish(
    {...failed, failure: {cause: 'early-terminations', index: failingIndex(state), since: at}},
    at,
    'worker-failed',
  )
}

function onWorkerStarting(state: RestartState, event: LogEvent, at: number): RestartState {
  const pid = event.prefixPid
  if (pid === undefined || pid === state.plan.masterPid || oldPids(state).includes(pid)) return state
  if (state.workerStarts.some((s) => s.pid === pid)) return state
  const next: RestartState = {...state, workerStarts: [...state.workerStarts, {pid, line: event.line}]}
  // Every worker still to boot may legitimately be booting right now (a hot restart starts them all at once).
  const unbooted = next.workerStarts.filter((s) => !next.bootPids.includes(s.pid))
  const stillToBoot = neededIndices(next).length - bootedCount(next)
  if (unbooted.length - stillToBoot < SILENT_FAILURE_EXTRA_STARTS) return next
  const failed = unbooted.reduce((s, start) => appendError(s, start.line), next)
  return finish(
    {...failed, failure: {cause: 'repeated-starts', index: failingIndex(state), since: at}},
    at,
    'worker-failed',
  )
}

function finish(state: RestartState, at: number, result: RestartResult): RestartState {
  const started = state.status !== 'waiting'
  const withEvidence =
    result === 'timed-out' ? state.earlyTerminations.reduce((s, t) => appendError(s, t.line), state) : state
  const failure = result === 'worker-failed' ? state.failure : undefined
  const serving = failure ? servingReport(state, failure) : undefined
  const outcome: RestartOutcome = {
    outcome: result,
    exitCode: EXIT_FOR[result],
    restart: shapeOf(state),
    phase: started ? state.phase : undefined,
    started,
    durationMs: at - state.plan.startedAt,
    workers: [...state.booted],
    pending: result === 'done' ? [] : pendingWorkers(state),
    failure: failure && {cause: failure.cause, index: failure.index, pid: failure.pid},
    serving,
    errorLines: [...withEvidence.errorLines],
    errorLinesOmitted: withEvidence.errorLinesOmitted,
    summary: '',
    warnings: [...state.warnings],
  }
  outcome.summary = summarize(state, outcome)
  return {...state, status: 'finished', collecting: undefined, outcome}
}

const EXIT_FOR: Record<RestartResult, ExitCode> = {
  done: EXIT.ok,
  'worker-failed': EXIT.workerFailed,
  'timed-out': EXIT.timedOut,
  'master-died': EXIT.masterDied,
}

const FALLBACK_WARNING =
  'Puma cannot do a phased restart here (preload_app, the default with several workers since Puma 7, or single mode): ' +
  'it did a hot restart instead, restarting all workers at once'

const UNANNOUNCED_HOT_WARNING =
  "Puma did a hot restart instead of the phased restart (a USR2 or Rails' tmp_restart came in, " +
  'or Puma 2.4 fell back silently because of preload_app): all workers restarted at once'

function summarize(state: RestartState, outcome: RestartOutcome): string {
  const took = seconds(outcome.durationMs)
  const where = state.kind === 'hot' ? 'after the hot restart' : `in phase ${state.phase}`
  switch (outcome.outcome) {
    case 'done': {
      const counts = bootCounts(state)
      if (state.kind === 'phased')
        return `${state.refork ? 'Refork' : 'Phased restart'} finished in ${took}: phase ${state.phase}, ${counts}`
      const what = state.plan.kind === 'phased' ? 'Hot restart (instead of phased)' : 'Hot restart'
      const how = state.mode === 'single' ? 'single mode' : counts
      return `${what} finished in ${took}: ${how}, master pid ${state.plan.masterPid} kept`
    }

    case 'master-died': {
      const cause =
        state.errorLines.length > 0 ? ` after "${withoutPrefix(state.errorLines[0])}"` : ' during the restart'
      const stale = state.kind === 'hot' && state.status !== 'waiting' ? ', and its pidfile may be stale' : ''
      return `The master (pid ${state.plan.masterPid}) exited${cause}: the server is down${stale}`
    }

    case 'timed-out': {
      // The deadline the user chose, not when the late tick happened to arrive.
      return timeoutSummary(state, outcome, seconds(state.plan.timeoutMs))
    }

    case 'worker-failed': {
      const failure = outcome.failure!
      const who = workerName(failure.index, failure.pid)
      const what = {
        'boot-error': `${who} failed to boot ${where}`,
        'hung-boot': `${who} hung while booting ${where}; Puma killed it at its boot timeout`,
        'early-terminations': `New workers keep ending while booting ${where}, with no reason logged: ${state.earlyTerminations.length} early terminations`,
        'repeated-starts': `New workers keep starting but never boot ${where}, with no reason logged: ${state.workerStarts.length} starts, ${bootedCount(state)} boots`,
      }[failure.cause]
      return `${what} (${outcome.serving!.sentence})`
    }
  }
}

function timeoutSummary(state: RestartState, outcome: RestartOutcome, deadline: string): string {
  if (!outcome.started) {
    if (state.fallbackSeen) {
      return `Puma said a phased restart is unavailable and did not restart within ${deadline} (Puma 2.2–2.3 ignores USR1 with preload_app: use a hot restart)`
    }

    const [line, signal, also] =
      state.kind === 'phased'
        ? ['"Starting phased worker restart"', 'USR1', 'USR1 not trapped (JRuby)']
        : ['"* Restarting..."', 'USR2', 'PUMA_SKIP_SIGUSR2 set']
    return (
      `Puma never started the restart: no ${line} line within ${deadline}. The ${signal} may not have reached Puma's restart code ` +
      `(a stuck master, ${also}, or Puma logs somewhere else than the log being followed)`
    )
  }

  if (state.kind === 'hot' && state.mode === 'single') {
    return `Timed out after ${deadline}: Puma restarted (single mode) but never printed "Use Ctrl-C to stop"; the app may still be loading, or hang`
  }

  const where = state.kind === 'hot' ? 'in the hot restart' : `in phase ${state.phase}`
  const parts = [`Timed out after ${deadline} ${where}: ${bootCounts(state)}`]
  const stillOld = outcome.pending.filter((p) => !p.stopped)
  const replacing = outcome.pending.filter((p) => p.stopped)
  if (stillOld.length > 0) parts.push(`still on ${oldPhaseLabel(state)}: ${stillOld.map(pendingName).join(', ')}`)
  if (replacing.length > 0) {
    parts.push(
      `${state.kind === 'hot' ? 'not booted' : 'stopped, replacement not booted'}: ${replacing.map(pendingName).join(', ')}`,
    )
  }

  const ended = state.earlyTerminations.length
  if (ended > 0) {
    parts.push(
      `${ended} new ${ended === 1 ? 'worker' : 'workers'} ended while booting ("Early termination of worker"; Puma before 5.3.2 logs no reason)`,
    )
  }

  return parts.join('; ')
}

function servingReport(state: RestartState, failure: Failure): Serving {
  const total = state.workers
  const retryingIndex = failure.index
  if (state.kind === 'hot') {
    const newWorkers = bootedCount(state)
    const sentence =
      newWorkers === 0
        ? 'no worker serves: Puma keeps retrying'
        : `${newWorkers} of ${total} ${plural(total, 'worker')} ${verb(newWorkers, 'serve')}; Puma keeps retrying the rest`
    return {newWorkers, oldWorkers: 0, retryingIndex, sentence}
  }

  // Worker 0 keeps serving through a refork; the failing worker's old process was stopped before its replacement forked.
  const newWorkers = bootedCount(state) + (state.refork ? 1 : 0)
  const oldWorkers = Math.max(0, total - newWorkers - 1)
  const oldPhase = state.plan.previousPhase
  const serving: string[] = []
  if (newWorkers > 0)
    serving.push(`${newWorkers} of ${total} ${plural(total, 'worker')} ${verb(newWorkers, 'run')} phase ${state.phase}`)
  if (oldWorkers > 0) {
    const who = newWorkers > 0 ? `${oldWorkers}` : `${oldWorkers} of ${total} ${plural(total, 'worker')}`
    serving.push(`${who} still ${verb(oldWorkers, 'run')} ${oldPhaseLabel(state)}`)
  }

  const retrying = `Puma keeps retrying ${retryingIndex === undefined ? 'a worker' : `worker ${retryingIndex}`}`
  const sentence = serving.length === 0 ? `no worker serves: ${retrying}` : `${serving.join(' and ')}; ${retrying}`
  return {newWorkers, oldWorkers, oldPhase, retryingIndex, sentence}
}

function pendingWorkers(state: RestartState): PendingWorker[] {
  const hotStarted = state.kind === 'hot' && state.status !== 'waiting'
  const stopped = (pid?: number) => hotStarted || (pid !== undefined && state.stoppedPids.includes(pid))
  if (pidOnly(state)) {
    // Without indices a hot restart's new workers have no identity until they boot.
    if (hotStarted) return []
    const replaced = new Set(state.booted.map((record) => record.oldPid))
    return state.plan.oldWorkers
      .filter((w) => !replaced.has(w.pid))
      .map((w) => ({oldPid: w.pid, stopped: stopped(w.pid)}))
  }

  return unbootedIndices(state).map((index) => {
    const oldPid = hotStarted ? undefined : oldPidFor(state, index)
    return {index, oldPid, stopped: stopped(oldPid)}
  })
}

/** Phased restarts need every index 0..W-1 at the new phase; a refork leaves worker 0 alone. */
function neededIndices(state: RestartState): number[] {
  const first = state.kind === 'phased' && state.refork ? 1 : 0
  return Array.from({length: Math.max(0, state.workers - first)}, (_, i) => first + i)
}

/** Puma < 2.8 logs and titles workers by PID only. */
function pidOnly(state: RestartState): boolean {
  return state.booted.some((r) => r.index === undefined) || state.plan.oldWorkers.some((w) => w.index === undefined)
}

function unbootedIndices(state: RestartState): number[] {
  return neededIndices(state).filter((index) => !state.booted.some((record) => record.index === index))
}

/** "2/3 workers booted" */
function bootCounts(state: RestartState): string {
  return `${bootedCount(state)}/${neededIndices(state).length} workers booted`
}

function bootedCount(state: RestartState): number {
  const needed = neededIndices(state)
  const indexed = needed.filter((index) => state.booted.some((record) => record.index === index)).length
  const pidOnlyBoots = state.booted.filter((record) => record.index === undefined).length
  return Math.min(needed.length, indexed + pidOnlyBoots)
}

function isComplete(state: RestartState): boolean {
  if (state.kind === 'hot' && state.mode === 'single') return false // done only on "Use Ctrl-C to stop"
  // No worker known before the signal (all crash-looping, or only a control URL): one boot at least.
  return bootedCount(state) >= Math.max(1, neededIndices(state).length)
}

/** Puma replaces workers in index order, so the one it keeps retrying is the lowest not yet booted. */
function failingIndex(state: RestartState): number | undefined {
  return pidOnly(state) ? undefined : unbootedIndices(state)[0]
}

function oldPids(state: RestartState): number[] {
  return state.plan.oldWorkers.map((w) => w.pid)
}

/** By index; without indices (Puma < 2.8) each boot replaces the next worker the master stopped. */
function oldPidFor(state: RestartState, index: number | undefined): number | undefined {
  if (index !== undefined) return state.plan.oldWorkers.find((w) => w.index === index)?.pid
  const used = new Set(state.booted.map((record) => record.oldPid))
  return state.stoppedPids.find((pid) => !used.has(pid))
}

function shapeOf(state: RestartState): RestartShape {
  if (state.kind === 'hot') return 'hot'
  return state.refork ? 'refork' : 'phased'
}

function continuesError(collecting: NonNullable<RestartState['collecting']>, event: LogEvent): boolean {
  const indented = event.prefixPid === undefined && /^[ \t]/.test(event.line)
  if (collecting.from === 'master') return indented && event.kind === 'other'
  if (event.kind === 'worker-early-termination') return false
  return indented || (collecting.pid !== undefined && event.prefixPid === collecting.pid)
}

function appendError(state: RestartState, line: string): RestartState {
  if (state.errorLines.length >= MAX_ERROR_LINES) return {...state, errorLinesOmitted: state.errorLinesOmitted + 1}
  return {...state, errorLines: [...state.errorLines, line]}
}

function bootMessage(state: RestartState, record: WorkerRecord): string {
  const where = state.kind === 'hot' ? '' : ` in phase ${state.phase}`
  const details = [`pid ${record.newPid}`]
  if (record.oldPid !== undefined) details.push(`was ${record.oldPid}`)
  if (record.bootSeconds !== undefined) details.push(`${record.bootSeconds}s`)
  const who = record.index === undefined ? 'a worker' : `worker ${record.index}`
  return `${who} booted${where} (${details.join(', ')})`
}

function workerName(index?: number, pid?: number): string {
  if (index !== undefined) return `Worker ${index}`
  return pid === undefined ? 'A new worker' : `A new worker (pid ${pid})`
}

function pendingName(pending: PendingWorker): string {
  if (pending.index === undefined) return `pid ${pending.oldPid}`
  return pending.oldPid === undefined ? `worker ${pending.index}` : `worker ${pending.index} (pid ${pending.oldPid})`
}

function oldPhaseLabel(state: RestartState): string {
  return state.plan.previousPhase === undefined ? 'the old phase' : `phase ${state.plan.previousPhase}`
}

function withoutPrefix(line: string): string {
  return splitPrefix(line).message
}

function addOnce(list: readonly number[], value: number): readonly number[] {
  return list.includes(value) ? list : [...list, value]
}

function plural(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`
}

function verb(count: number, base: string): string {
  return count === 1 ? `${base}s` : base
}

/** "0.31 s", "3.20 s", "42.5 s"; whole seconds (a configured --timeout) as "60 s". */
function seconds(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000} s`
  return `${ms < 10_000 ? (ms / 1000).toFixed(2) : Number((ms / 1000).toFixed(1))} s`
}
