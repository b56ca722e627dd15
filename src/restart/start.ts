import {relative} from 'node:path'

import {CtlError, EXIT, exitNameOf, hasExitCode, usageError} from '../errors.js'
import {startTicks} from '../target/liveness.js'
import {type RunningMaster, runningMasterOf} from '../target/running.js'
import {pollUntil} from '../wait/poll.js'
import {realRestartDeps, type RestartDeps} from './deps.js'
import {type RestartOutcome, type RestartState, type WorkerRecord} from './machine.js'
import {type Prepared} from './prepare.js'
import {type Launcher, type PumaCommand} from './puma-command.js'
import {type RestartRequest, type RestartStart} from './run.js'
import {spawnDetached} from './spawn-puma.js'
import {followStartLogs} from './start-logs.js'
import {waitForOutcome} from './wait.js'
import {readBeforeSignal} from './witness.js'

/** How long a Puma that failed to boot gets to stop on SIGTERM before its process group is killed. */
const STOP_FAILED_MS = 30_000

/** How many of its last lines are shown when Puma dies without an error line of its own (bundler's, a shell's). */
const LAST_LINES_SHOWN = 10

export interface StartRequest {
  /** The app's folder, as given (a `current` symlink stays one): Puma's working folder. */
  appDir: string
  command: PumaCommand
  /** -F and -e, which also say where the app's config names its pidfile. */
  config: {configFile?: string; environment?: string}
  /** Absolute: where Puma's stdout and stderr are appended. */
  logPath: string
  /** Called once Puma runs, then after every step of the wait. */
  onStart?: (start: RestartStart) => void
  onUpdate?: (state: RestartState) => void
  /** Ctrl-C: stop waiting; Puma is left running. */
  signal: AbortSignal
  timeoutMs: number
  /** false: start and return, as pumactl does. */
  wait: boolean
}

/** Everything a start does to the world besides what a restart's wait does. */
export interface StartDeps extends RestartDeps {
  /** Sends a signal to a PID (a negative one: its process group). */
  kill(pid: number, signal: NodeJS.Signals): void
  /** The Puma master already running for the app (its config: `-F` and `-e`), if any. */
  runningMasterOf(
    appDir: string,
    config: {configFile?: string; environment?: string},
  ): Promise<RunningMaster | undefined>
  /** Starts Puma detached with its output appended to `logPath`; resolves with its PID. */
  spawnPuma(command: PumaCommand, place: {cwd: string; logPath: string}): Promise<number>
  /** The process's start time (clock ticks): with the PID it names the Puma ctl started. */
  startTicks(pid: number): number | undefined
  /** The wall clock (ms), which Puma's own log marks are in. */
  wallClock(): number
}

export const realStartDeps: StartDeps = {
  ...realRestartDeps,
  kill: (pid, signal) => process.kill(pid, signal),
  runningMasterOf: (appDir, config) => runningMasterOf(appDir, config),
  spawnPuma: spawnDetached,
  startTicks,
  wallClock: () => Date.now(),
}

/** What every start reports, in text and under --json. */
interface Started {
  command: string
  launcher: Launcher
  /** Puma's log: absolute. */
  log: string
  pid: number
}

export type StartReport =
  | (Started & {
      booted: WorkerRecord[]
      durationMs: number
      /** Every log followed: ctl's, then where stdout_redirect sent Puma's lines. */
      logs: string[]
      mode: 'cluster' | 'single'
      outcome: 'done'
      summary: string
      version?: string
      waited: true
      warnings: string[]
      workers: number
    })
  | (Started & {
      exitCode: 0
      logs: string[]
      /** --no-wait: Puma runs; whether the app boots is not known. */
      outcome: 'started'
      summary: string
      waited: false
      warnings: string[]
    })

/**
 * `ctl start`: refuses when a master already runs for the app, starts Puma detached, then waits as
 * for a hot restart that has already begun (restart/wait.ts with a 'start' plan): the banner tells
 * the mode and the workers, every worker must boot and serve (single mode: "Use Ctrl-C to stop" and
 * a server thread). Exit 5 when the app cannot boot (the master dies, or a worker fails: ctl then
 * stops the Puma it started, which would retry forever), 6 on the timeout (Puma left running), 130
 * on Ctrl-C (Puma left running).
 */
export async function startPuma(request: StartRequest, deps: StartDeps = realStartDeps): Promise<StartReport> {
  const {appDir, logPath} = request
  const running = await deps.runningMasterOf(appDir, request.config)
  if (running) throw alreadyRunning(running, appDir)
  if (request.signal.aborted) throw new CtlError('interrupted', 'interrupted before Puma was started')
  // Only what this Puma writes is read: the log's end before the spawn.
  const from = await deps.logEnd(logPath)
  const startedAt = deps.clock.now()
  const spawnedAt = deps.wallClock()
  const pid = await deps.spawnPuma(request.command, {cwd: appDir, logPath})
  const identity = deps.startTicks(pid)
  // The kernel's picture at the spawn: every worker is new.
  const before = readBeforeSignal(pid, deps.kernel)
  const started: Started = {pid, command: request.command.shown, launcher: request.command.launcher, log: logPath}
  // Without a wait, the result line alone says what happened.
  if (!request.wait) {
    const summary = `Started Puma (pid ${pid}): ${started.command}; not waiting (--no-wait): whether the app boots is not known`
    return {...started, waited: false, outcome: 'started', exitCode: 0, logs: [logPath], summary, warnings: []}
  }

  request.onStart?.(startNotice(started, appDir))

  const stopSources = new AbortController()
  const prepared: Prepared = {
    // Mode single until the banner says cluster: single mode's lines carry no [pid] prefix to wait for.
    checks: {logAttributable: true, mode: 'single', warnings: [], workers: []},
    hasLog: true,
    logs: [{path: logPath}],
    positions: [from],
    stopSources,
  }
  const wait: RestartRequest = {
    kind: 'hot',
    start: true,
    to: {
      kind: 'master',
      target: {master: {pid, cmd: '', binds: [], workers: [], startTicks: identity}, origin: 'started by ctl'},
    },
    via: 'signal',
    wait: true,
    signal: request.signal,
    timeoutMs: request.timeoutMs,
    onUpdate: request.onUpdate,
    cwd: appDir,
  }
  // ctl's log, then where stdout_redirect sends Puma's lines.
  const logs = [logPath]
  // What Puma (or bundler, or the shell) said last: the evidence when it dies saying nothing Puma's way.
  const lastLines: string[] = []
  const following: RestartDeps = {
    ...deps,
    followLog: (path, options) =>
      path === logPath
        ? remembering(
            followStartLogs({...options, logPath, pid, spawnedAt, onRedirect: (to) => logs.push(to)}, deps),
            lastLines,
          )
        : deps.followLog(path, options),
  }
  let state: RestartState
  try {
    state = await waitForOutcome(wait, prepared, {at: startedAt, before}, following)
  } catch (error) {
    if (!hasExitCode(error, EXIT.interrupted)) throw error
    const where = /^interrupted while waiting: (.*); nothing more was sent to Puma$/.exec(error.message)?.[1]
    throw new CtlError(
      'interrupted',
      `interrupted while Puma started${where ? ` (${where})` : ''}: Puma (pid ${pid}) was left running; ctl stop stops it`,
    )
  }

  const outcome = state.outcome!
  if (outcome.exitCode !== 0) {
    // A worker that cannot boot is retried forever, and nothing serves: what ctl started, it stops.
    const stopped = outcome.outcome === 'worker-failed' ? await stopFailedPuma(pid, identity, deps) : undefined
    throw startError({...started, logs}, {outcome, state, stopped, lastLines})
  }

  return {
    ...started,
    waited: true,
    outcome: 'done',
    // Where Puma logs from now on: the last of them.
    summary: `${outcome.summary}, log ${shownPath(logs.at(-1)!, appDir)}`,
    logs,
    version: state.plan.version,
    mode: state.mode,
    workers: state.mode === 'single' ? 0 : state.workers,
    booted: outcome.workers,
    durationMs: outcome.durationMs,
    warnings: outcome.warnings,
  }
}

export function alreadyRunning(running: RunningMaster, appDir: string): CtlError {
  return usageError(
    `Puma is already running for ${appDir}: master pid ${running.pid} (${running.origin}, running from ${running.folder}); nothing started (ctl restart, ctl phased-restart or ctl stop act on it)`,
    {data: {pid: running.pid, folder: running.folder, origin: running.origin}},
  )
}

/** What the progress lines say once Puma runs. */
function startNotice(started: Started, appDir: string): RestartStart {
  return {
    headline: `Started Puma (pid ${started.pid}, ${started.launcher}): ${started.command}; following ${shownPath(started.log, appDir)}`,
    sent: 'start',
    via: 'signal',
    warnings: [],
    logs: [{path: started.log}],
    pid: started.pid,
    preflight: {logAttributable: true, mode: 'single', warnings: [], workers: []},
    stats: false,
  }
}

/** SIGTERM to the Puma ctl started, then its whole process group killed if it is still there after STOP_FAILED_MS. */
async function stopFailedPuma(pid: number, identity: number | undefined, deps: StartDeps): Promise<string> {
  if (deps.hasExited(pid, identity)) return `Puma (pid ${pid}) has exited`
  deps.kill(pid, 'SIGTERM')
  const deadline = deps.clock.now() + STOP_FAILED_MS
  const polled = await pollUntil(() => (deps.hasExited(pid, identity) ? true : undefined), {
    clock: deps.clock,
    deadline,
    intervalMs: 50,
  })
  if (polled.status === 'done') return `ctl stopped the Puma it started (pid ${pid}, SIGTERM)`
  // Its own session and group since the spawn: the master and every worker it forked.
  deps.kill(-pid, 'SIGKILL')
  return `ctl killed the Puma it started (pid ${pid} and its workers, SIGKILL after SIGTERM was not enough)`
}

function startError(
  started: Started & {logs: string[]},
  {
    lastLines,
    outcome,
    state,
    stopped,
  }: {lastLines: string[]; outcome: RestartOutcome; state: RestartState; stopped?: string},
): CtlError {
  const silent = outcome.outcome === 'master-died' && outcome.errorLines.length === 0 && lastLines.length > 0
  const details = silent ? lastLines.slice(-LAST_LINES_SHOWN) : [...outcome.errorLines]
  if (outcome.errorLinesOmitted > 0)
    details.push(`… ${outcome.errorLinesOmitted} more lines in ${started.logs.join(', ')}`)
  let summary = stopped ? `${outcome.summary}; ${stopped}` : outcome.summary
  if (silent) summary = `Puma exited before it served, with no error line of Puma's; its last output:`
  const {workers: booted, ...rest} = outcome
  return new CtlError(exitNameOf(outcome.exitCode), summary, {
    details,
    data: {
      ...started,
      ...rest,
      summary,
      booted,
      version: state.plan.version,
      mode: state.mode,
      workers: state.mode === 'single' ? 0 : state.workers,
      stopped: stopped !== undefined,
    },
  })
}

/**
 * The lines as they pass, the last LAST_LINES_SHOWN of them kept in `kept`.
 *
 * @yields each line, unchanged
 */
async function* remembering(lines: AsyncIterable<string>, kept: string[]): AsyncGenerator<string> {
  for await (const line of lines) {
    kept.push(line)
    if (kept.length > LAST_LINES_SHOWN) kept.shift()
    yield line
  }
}

/** The log as the user reads it: relative to the app's folder when inside it. */
function shownPath(path: string, appDir: string): string {
  const inside = relative(appDir, path)
  return inside.startsWith('..') || inside === '' ? path : inside
}
