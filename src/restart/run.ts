import {CtlError, type ExitName, usageError} from '../errors.js'
import {followLog, logEnd} from '../log/follow.js'
import {locateLogs, type LogSource} from '../log/locate.js'
import {parseLine} from '../log/parse.js'
import {sendSignal} from '../signals.js'
import {type Target} from '../target/find.js'
import {hasExited, type Kill, startTicks} from '../target/liveness.js'
import {readProcessDetails} from '../target/process-table.js'
import {FAILURE_DETAIL_GRACE_MS, initialState, progress, reduce, type RestartInput, type RestartKind, type RestartOutcome, type RestartState} from './machine.js'
import {type Preflight, preflight} from './preflight.js'

/**
 * How often the wait checks that the master still lives (one read of /proc/PID/stat): no event
 * tells when a process that is not our child exits. Log lines do not wait for it: they arrive
 * through file-change events, and the clock is consulted only when the machine needs it.
 */
const LIVENESS_POLL_MS = 250

export interface RestartRequest {
  kind: RestartKind
  target: Target
  timeoutMs: number
  /** --log; otherwise the master's stdout/stderr files are followed. */
  logPath?: string
  /** false: send the signal and return, as pumactl does. */
  wait: boolean
  /** Ctrl-C: stop waiting, send nothing more. */
  signal: AbortSignal
  cwd?: string
  kill?: Kill
  now?: () => number
  /** Called once the signal is sent, then after every step of the wait. */
  onStart?: (start: RestartStart) => void
  onUpdate?: (state: RestartState) => void
}

export interface RestartStart {
  pid: number
  signal: NodeJS.Signals
  logs: LogSource[]
  preflight: Preflight
}

export type RestartReport =
  | ({waited: false} & RestartStart)
  | ({waited: true; logs: string[]} & RestartOutcome)

/**
 * A restart from start to verdict: find the log and remember its end, signal the master, then feed
 * log lines, clock ticks and the master's death to the state machine until it reaches an outcome.
 * A failed outcome is thrown as a CtlError carrying the outcome's exit code and data.
 */
export async function runRestart(request: RestartRequest): Promise<RestartReport> {
  const {target, kind} = request
  const now = request.now ?? Date.now
  const {pid} = target.master
  const logs = locateLogs(pid, request.logPath, request.cwd)
  if (request.wait && logs.length === 0) {
    const stdout = readProcessDetails(pid)?.stdout ?? 'unknown'
    throw usageError(`cannot wait for the restart: Puma's log is not a file ctl can follow (the master's stdout is ${stdout})`, {
      suggestion: 'pass --log PATH (the file Puma logs to), or --no-wait to only send the signal',
    })
  }

  const checks = await preflight(target.master, logs.map((log) => log.path), kind, readProcessDetails(pid)?.cwd)
  // Remember where each log ends before the signal: only what the restart writes is read.
  const positions = await Promise.all(logs.map((log) => logEnd(log.path)))
  const identity = startTicks(pid)
  const startedAt = now()
  const signal = sendSignal(pid, kind === 'phased' ? 'phased-restart' : 'restart', request.kill)
  const start: RestartStart = {pid, signal, logs, preflight: checks}
  request.onStart?.(start)
  if (!request.wait) return {waited: false, ...start}

  let state = initialState({
    kind,
    masterPid: pid,
    mode: checks.mode,
    workers: target.master.workers.length,
    oldWorkers: target.master.workers.map(({index, pid: workerPid}) => ({index, pid: workerPid})),
    startedAt,
    timeoutMs: request.timeoutMs,
  })
  let settle!: () => void
  const settled = new Promise<void>((resolve) => (settle = resolve))
  let followError: unknown
  // Time matters to the machine at two moments only: the deadline, and the end of a failing
  // worker's grace for its error lines. Ticks are sent then, not periodically.
  const tick = () => dispatch({type: 'tick', at: now()})
  const timers = [setTimeout(tick, request.timeoutMs + 1)]
  const dispatch = (input: RestartInput) => {
    if (state.outcome) return
    const wasFailing = state.status === 'failing'
    state = reduce(state, input)
    request.onUpdate?.(state)
    if (state.status === 'failing' && !wasFailing) timers.push(setTimeout(tick, FAILURE_DETAIL_GRACE_MS + 1))
    if (state.outcome) settle()
  }

  const stopFollowing = new AbortController()
  const followers = logs.map(async (log, i) => {
    try {
      for await (const line of followLog(log.path, {from: positions[i], signal: stopFollowing.signal})) {
        dispatch({type: 'log', event: parseLine(line), at: now()})
      }
    } catch (error) {
      followError = error
      settle()
    }
  })

  // The master's death is confirmed on the poll after it is first seen, so that the lines it wrote
  // while dying (an app that failed to load) reach the machine first through the log watcher.
  let goneSeen = false
  const poller = setInterval(() => {
    const gone = hasExited(pid, identity)
    if (gone && goneSeen) dispatch({type: 'master-exited', at: now()})
    goneSeen = gone
  }, LIVENESS_POLL_MS)
  const onInterrupt = () => settle()
  request.signal.addEventListener('abort', onInterrupt, {once: true})
  try {
    if (!request.signal.aborted) await settled
  } finally {
    clearInterval(poller)
    for (const timer of timers) clearTimeout(timer)
    request.signal.removeEventListener('abort', onInterrupt)
    stopFollowing.abort()
    await Promise.allSettled(followers)
  }

  if (followError) throw followError
  if (!state.outcome) {
    throw new CtlError('interrupted', `interrupted while waiting: ${progress(state).label}; nothing more was sent to Puma`, {
      data: {state: progress(state)},
    })
  }

  const report: RestartReport = {waited: true, logs: logs.map((log) => log.path), ...state.outcome}
  if (state.outcome.exitCode !== 0) throw outcomeError(report)
  return report
}

const EXIT_NAMES: Record<RestartOutcome['outcome'], ExitName> = {
  done: 'ok',
  'worker-failed': 'workerFailed',
  'timed-out': 'timedOut',
  'master-died': 'masterDied',
}

function outcomeError(report: RestartReport & {waited: true}): CtlError {
  // The summary already says what still serves; the details are the evidence.
  const details = [...report.errorLines]
  if (report.errorLinesOmitted > 0) details.push(`… ${report.errorLinesOmitted} more lines in ${report.logs.join(', ')}`)
  const {waited: _waited, ...data} = report
  return new CtlError(EXIT_NAMES[report.outcome], report.summary, {details, data})
}
