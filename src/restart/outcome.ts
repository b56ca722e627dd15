import {EXIT, type ExitCode} from '../errors.js'
import {
  bootedCount,
  type Failure,
  oldPidFor,
  type PendingWorker,
  pidOnly,
  type RestartOutcome,
  type RestartResult,
  type RestartState,
  type Serving,
  shapeOf,
  unbootedIndices,
} from './state.js'
import {servingSentence, summarize} from './wording.js'

/** How a restart ends: the outcome record, built once from the state at that moment. */

const EXIT_FOR: Record<RestartResult, ExitCode> = {
  done: EXIT.ok,
  'worker-failed': EXIT.workerFailed,
  'timed-out': EXIT.timedOut,
  'master-died': EXIT.masterDied,
}

export function finish(state: RestartState, at: number, result: RestartResult): RestartState {
  const started = state.status !== 'waiting'
  const failure = result === 'worker-failed' ? state.failure : undefined
  // What to roll back to: a failure's news only (a start had no release before it).
  const oldRelease = result === 'done' || state.plan.start ? undefined : state.plan.oldRelease
  const outcome: RestartOutcome = {
    outcome: result,
    // A Puma ctl started that dies before it serves is an app that cannot boot: the exit 5.
    exitCode: result === 'master-died' && state.plan.start ? EXIT.workerFailed : EXIT_FOR[result],
    restart: shapeOf(state),
    phase: started ? state.phase : undefined,
    started,
    // A soaked restart took as long as it took to be done; the soak is told apart.
    durationMs: (state.soak?.since ?? at) - state.plan.startedAt,
    workers: [...state.booted],
    pending: result === 'done' ? [] : pendingWorkers(state),
    failure: failure && {cause: failure.cause, index: failure.index, pid: failure.pid},
    serving: failure ? servingReport(state, failure) : undefined,
    errorLines: [...state.errorLines],
    errorLinesOmitted: state.errorLinesOmitted,
    summary: '',
    warnings: [...state.warnings],
    ...(oldRelease && {oldRelease}),
    ...(state.stall && {stall: state.stall}),
    ...(state.soak && {soak: {seconds: (state.plan.soakMs ?? 0) / 1000, ok: result === 'done'}}),
  }
  outcome.summary = summarize(state, outcome)
  return {...state, status: 'finished', collecting: undefined, outcome}
}

function servingReport(state: RestartState, failure: Failure): Serving {
  const retryingIndex = failure.index
  if (state.kind === 'hot') {
    const counts = {newWorkers: bootedCount(state), oldWorkers: 0, retryingIndex}
    return {...counts, sentence: servingSentence(state, counts)}
  }

  // Worker 0 keeps serving through a refork; the failing worker's old process was stopped before its replacement forked.
  const newWorkers = bootedCount(state) + (state.refork ? 1 : 0)
  const oldWorkers = Math.max(0, state.workers - newWorkers - 1)
  const counts = {newWorkers, oldWorkers, retryingIndex}
  return {
    newWorkers,
    oldWorkers,
    oldPhase: state.plan.previousPhase,
    retryingIndex,
    sentence: servingSentence(state, counts),
  }
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
