import {deliver, type Delivery, type Via} from '../actions/deliver.js'
import {type ControlEndpoint} from '../control/client.js'
import {statsConfirm, statsEvents} from '../control/stats-events.js'
import {fetchStats, hasUnbooted, type PumaStats} from '../control/stats.js'
import {CtlError, EXIT, exitNameOf, usageError} from '../errors.js'
import {followLog, logEnd} from '../log/follow.js'
import {describeJournalUnit, type JournalUnit, journalUnitOf, startJournal} from '../log/journal.js'
import {locateLogs, type LogSource} from '../log/locate.js'
import {parseLine} from '../log/parse.js'
import {hasExited} from '../target/liveness.js'
import {readProcessDetails} from '../target/process-table.js'
import {type PumaMaster} from '../target/scan.js'
import {pause} from '../wait/pause.js'
import {
  checkReleaseDir,
  type HealthResult,
  probeHealth,
  releaseFolderWarning,
  resolveDir,
  validateHealthUrl,
} from './checks.js'
import {
  FAILURE_DETAIL_GRACE_MS,
  initialState,
  progress,
  reduce,
  type RestartInput,
  type RestartKind,
  type RestartOutcome,
  type RestartState,
} from './machine.js'
import {type Preflight, preflight} from './preflight.js'

/**
 * How often the wait checks that the master still lives (one read of /proc/PID/stat): no event
 * tells when a process that is not our child exits. Log lines do not wait for it: they arrive
 * through file-change events, and the clock is consulted only when the machine needs it.
 */
const LIVENESS_POLL_MS = 250

/** How often /stats is asked when it is the only source (no log to follow), or to confirm the end. */
const STATS_POLL_MS = 100

/** Puma 5+ respawns a failing worker at once: a crash-looping worker has a new PID within this. */
const CRASH_LOOP_LOOK_MS = 200

export interface RestartRequest {
  control?: ControlEndpoint
  cwd?: string
  /** After the restart: every new worker must run in the folder this points to (exit 8 otherwise). */
  expectDir?: string
  healthTimeoutMs?: number
  /** After the restart: this URL must answer 2xx within healthTimeoutMs (exit 8 otherwise). */
  healthUrl?: string
  /** --journal: follow this systemd unit's journal (found on its own when the master logs to the journal). */
  journal?: string
  kind: RestartKind
  /** --log; otherwise the master's stdout/stderr files are followed. */
  logPath?: string
  /** The verified master; undefined when only a control URL is known. */
  master?: PumaMaster
  now?: () => number
  /** Called once the command is sent, then after every step of the wait. */
  onStart?: (start: RestartStart) => void
  onUpdate?: (state: RestartState) => void
  /** Ctrl-C: stop waiting, send nothing more. */
  signal: AbortSignal
  timeoutMs: number
  via: Via
  /** false: send and return, as pumactl does. */
  wait: boolean
}

export interface RestartStart extends Delivery {
  logs: LogSource[]
  pid?: number
  preflight: Preflight
  /** true when /stats is followed (the only source, or confirming the log's verdict). */
  stats: boolean
}

export type RestartReport =
  (RestartOutcome & {health?: HealthResult; logs: string[]; waited: true}) | (RestartStart & {waited: false})

/**
 * A restart from start to verdict: find the log and remember its end, send the command, then feed
 * log lines (or /stats changes when there is no log), deadline ticks and the master's death to
 * the state machine until it reaches an outcome; /stats, where known, confirms a success. A failed
 * outcome is thrown as a CtlError carrying the outcome's exit code and data.
 */
export async function runRestart(request: RestartRequest): Promise<RestartReport> {
  const {master, control, kind} = request
  const now = request.now ?? Date.now
  const pid = master?.pid
  // The post-restart checks' own input is checked first: a typo must not surface after the restart.
  if (request.expectDir !== undefined) resolveDir(request.expectDir)
  if (request.healthUrl !== undefined) validateHealthUrl(request.healthUrl)
  // What /proc says of the master (its stdout, stderr and folder), read once for the preparations.
  const details = pid === undefined ? undefined : readProcessDetails(pid)
  const logs = request.journal ? [] : locateLogs(details, request.logPath, request.cwd)
  // Under systemd the master's stdout is the journal's socket: follow its unit's journal then.
  const journal: JournalUnit | string | undefined =
    request.journal ??
    (logs.length === 0 && pid !== undefined && !request.logPath ? await journalUnitOf(pid) : undefined)
  if (request.wait && logs.length === 0 && !journal && !control) {
    throw usageError(
      `cannot wait for the restart: Puma's log is not a file ctl can follow (the master's stdout is ${details?.stdout ?? 'unknown'}), and no control server is known`,
      {
        suggestion:
          'pass --log PATH (the file Puma logs to), --journal UNIT, --state (whose control server ctl can ask), or --no-wait to only send the signal',
      },
    )
  }

  // By signal, /stats only adds to the picture: a stale or refusing control server is a warning then.
  const statsWarnings: string[] = []
  const statsBefore = control
    ? await fetchStats(control, {signal: request.signal}).catch((error: Error) => {
        if (request.via === 'control' || (logs.length === 0 && !journal) || request.signal.aborted) throw error
        statsWarnings.push(`/stats is not available, so ctl follows the log alone: ${error.message}`)
        return undefined
      })
    : undefined
  const confirmControl = statsBefore ? control : undefined
  // A worker not booted before the signal: a second look tells whether it is crash-looping.
  const statsLater =
    control && hasUnbooted(statsBefore)
      ? await pause(CRASH_LOOP_LOOK_MS, request.signal).then(() => fetchStats(control, {signal: request.signal}))
      : undefined
  const checks = await preflight(
    {master, stats: statsBefore, statsLater, logPaths: logs.map((log) => log.path), folder: details?.cwd},
    kind,
  )
  checks.warnings.push(...statsWarnings)
  const pitfall = kind === 'phased' && details ? releaseFolderWarning(details, request.expectDir) : undefined
  if (pitfall) checks.warnings.push(pitfall)
  // Remember where each log ends before the signal: only what the restart writes is read. The
  // journal is followed from now on, and journalctl must be running before the signal.
  const positions = await Promise.all(logs.map((log) => logEnd(log.path)))
  const stopSources = new AbortController()
  const journalFollower = request.wait && journal ? startJournal(journal, {signal: stopSources.signal}) : undefined
  try {
    await journalFollower?.ready
  } catch (error) {
    stopSources.abort()
    throw error
  }

  const identity = master?.startTicks
  const startedAt = now()
  let delivery: Delivery
  try {
    // Ctrl-C during the preparations: nothing has been sent yet, and nothing will be.
    if (request.signal.aborted) throw new CtlError('interrupted', 'interrupted before anything was sent to Puma')
    delivery = await deliver(kind === 'phased' ? 'phased-restart' : 'restart', {
      via: request.via,
      master,
      control,
      signal: request.signal,
    })
  } catch (error) {
    stopSources.abort()
    throw error
  }

  const sourcesShown = journal ? [...logs, {path: `journal of ${describeJournalUnit(journal)}`}] : logs
  const start: RestartStart = {...delivery, pid, logs: sourcesShown, stats: Boolean(confirmControl), preflight: checks}
  request.onStart?.(start)
  if (!request.wait) return {waited: false, ...start}

  let state = initialState({
    kind,
    masterPid: pid ?? 0,
    mode: checks.mode,
    workers: checks.workers.length,
    oldWorkers: checks.workers,
    startedAt,
    timeoutMs: request.timeoutMs,
    previousPhase: statsBefore?.phase,
  })
  let settle!: () => void
  const settled = new Promise<void>((resolve) => (settle = resolve))
  let sourceError: unknown
  // Time matters to the machine at two moments only: the deadline, and the end of a failing
  // worker's grace for its error lines. Ticks are sent then, not periodically. A master found dead
  // then is what ended it (an app that failed to load takes the master down, and its exception
  // may arrive from stderr before the log's "Unable to load application").
  const tick = () =>
    dispatch(
      pid !== undefined && hasExited(pid, identity) ? {type: 'master-exited', at: now()} : {type: 'tick', at: now()},
    )
  const timers: NodeJS.Timeout[] = [setTimeout(tick, request.timeoutMs + 1)]
  const dispatch = (input: RestartInput) => {
    if (state.outcome) return
    const wasFailing = state.status === 'failing'
    state = reduce(state, input)
    request.onUpdate?.(state)
    if (state.status === 'failing' && !wasFailing) timers.push(setTimeout(tick, FAILURE_DETAIL_GRACE_MS + 1))
    if (state.outcome) settle()
  }

  const follow = async (lines: AsyncIterable<string>) => {
    try {
      for await (const line of lines) dispatch({type: 'log', event: parseLine(line), at: now()})
    } catch (error) {
      sourceError = error
      settle()
    }
  }

  const sources = logs.map((log, i) => follow(followLog(log.path, {from: positions[i], signal: stopSources.signal})))
  if (journalFollower) sources.push(follow(journalFollower.lines))
  // Without a log, /stats is the source: its changes become the events the machine reads.
  if (logs.length === 0 && !journalFollower && control) {
    sources.push(
      followStats(control, statsBefore, pid, stopSources.signal, (event) =>
        dispatch({type: 'log', event, at: now()}),
      ).catch((error) => {
        sourceError = error
        settle()
      }),
    )
  }

  // The master's death is confirmed on the poll after it is first seen, so that the lines it wrote
  // while dying (an app that failed to load) reach the machine first through the log watcher.
  let goneSeen = false
  const poller = setInterval(() => {
    if (pid === undefined) return
    const gone = hasExited(pid, identity)
    if (gone && goneSeen) dispatch({type: 'master-exited', at: now()})
    goneSeen = gone
  }, LIVENESS_POLL_MS)
  const onInterrupt = () => settle()
  request.signal.addEventListener('abort', onInterrupt, {once: true})
  try {
    if (!request.signal.aborted) await settled
    if (state.outcome?.exitCode === 0 && confirmControl && (logs.length > 0 || journalFollower))
      await confirmWithStats(confirmControl, state, request, now)
  } finally {
    clearInterval(poller)
    for (const timer of timers) clearTimeout(timer)
    request.signal.removeEventListener('abort', onInterrupt)
    stopSources.abort()
    await Promise.allSettled([...sources, journalFollower?.stop()])
  }

  if (sourceError) throw sourceError
  if (!state.outcome) throw interrupted(progress(state).label)
  const report: RestartReport = {waited: true, logs: logs.map((log) => log.path), ...state.outcome}
  if (state.outcome.exitCode !== 0) throw outcomeError(report)
  // The restart finished: now the checks that a signal alone never reveals.
  if (request.expectDir !== undefined) checkReleaseDir(newProcesses(report, pid), request.expectDir)
  if (request.healthUrl !== undefined)
    report.health = await probeHealth(request.healthUrl, {
      timeoutMs: request.healthTimeoutMs ?? 10_000,
      signal: request.signal,
    })
  return report
}

/** The processes that run the new code: the new workers, or the master itself in single mode. */
function newProcesses(report: RestartOutcome, masterPid: number | undefined): number[] {
  const workers = report.workers.map((worker) => worker.newPid)
  return workers.length > 0 || masterPid === undefined ? workers : [masterPid]
}

/** Polls /stats and hands what changed to `emit`; refused connections (a hot restart's exec) are skipped. */
async function followStats(
  control: ControlEndpoint,
  first: PumaStats | undefined,
  masterPid: number | undefined,
  signal: AbortSignal,
  emit: (event: ReturnType<typeof statsEvents>[number]) => void,
): Promise<void> {
  let previous = first
  let origin = first
  for (;;) {
    await pause(STATS_POLL_MS, signal)
    if (signal.aborted) return // the wait is over
    let current: PumaStats
    try {
      current = await fetchStats(control, {signal, timeoutMs: 5000})
    } catch (error) {
      if (signal.aborted) return // the wait ended while a request was under way
      if (error instanceof CtlError && error.exitCode === EXIT.noMaster) continue // restarting: the control server is down a moment
      throw error
    }

    const events = statsEvents(previous, current, masterPid, origin)
    if (events.some((event) => event.kind === 'hot-restart')) origin = undefined
    for (const event of events) emit(event)
    previous = current
  }
}

/** The log said done; /stats must agree (every worker booted in the phase, none old) before exit 0. */
async function confirmWithStats(
  control: ControlEndpoint,
  state: RestartState,
  request: RestartRequest,
  now: () => number,
): Promise<void> {
  const outcome = state.outcome!
  const phase = outcome.restart === 'hot' ? 0 : outcome.phase
  const deadline = state.plan.startedAt + request.timeoutMs
  let disagreement: string | undefined
  for (;;) {
    try {
      disagreement = statsConfirm(await fetchStats(control, {signal: request.signal, timeoutMs: 5000}), phase)
    } catch (error) {
      if (!(error instanceof CtlError && error.exitCode === EXIT.noMaster)) throw error
      disagreement = 'the control server did not answer'
    }

    if (!disagreement) return
    if (now() >= deadline || request.signal.aborted) break
    await pause(STATS_POLL_MS, request.signal)
  }

  if (request.signal.aborted) throw interrupted(`the log showed the restart done; ${disagreement}`)
  throw new CtlError(
    'timedOut',
    `the log showed the restart done, but ${disagreement} (after ${request.timeoutMs / 1000} s)`,
  )
}

function interrupted(where: string): CtlError {
  return new CtlError('interrupted', `interrupted while waiting: ${where}; nothing more was sent to Puma`)
}

function outcomeError(report: RestartReport & {waited: true}): CtlError {
  // The summary already says what still serves; the details are the evidence.
  const details = [...report.errorLines]
  if (report.errorLinesOmitted > 0)
    details.push(`… ${report.errorLinesOmitted} more lines in ${report.logs.join(', ')}`)
  const {waited: _waited, ...data} = report
  return new CtlError(exitNameOf(report.exitCode), report.summary, {details, data})
}
