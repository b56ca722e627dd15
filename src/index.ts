/**
 * puma-ctl's programmatic API: what the `ctl` commands wrap.
 *
 *   import {phasedRestart} from 'puma-ctl'
 *   const run = phasedRestart({pidfile: 'tmp/pids/puma.pid', timeoutMs: 120_000})
 *   for await (const event of run) if (event.type === 'update') console.log(event.progress.label)
 *   const report = await run.result // rejects with a CtlError carrying exitCode (5, 6, 7, 8, …)
 */
import {fetchStats} from './control/stats.js'
import {type Via} from './deliver.js'
import {type Notice, progress, type RestartKind, type RestartProgress} from './restart/machine.js'
import {type RestartReport, type RestartStart, runRestart} from './restart/run.js'
import {serverStatus, type ServerStatus} from './status.js'
import {findControl} from './target/endpoint.js'
import {findTarget} from './target/find.js'
import {reach, viaFor} from './target/reach.js'

export {CtlError, EXIT, type ExitCode} from './errors.js'
export type {RestartOutcome, RestartProgress, Notice, WorkerRecord} from './restart/machine.js'
export type {RestartReport, RestartStart} from './restart/run.js'
export type {ServerStatus, WorkerStatus} from './status.js'
export type {PumaStats} from './control/stats.js'

/** Which Puma master: the same choices as the command-line flags. */
export interface TargetSelector {
  pid?: number | string
  pidfile?: string
  state?: string
  /** Scan for the master running in this folder. */
  dir?: string
  /** Scan for the master with this tag. */
  tag?: string
  controlUrl?: string
  controlToken?: string
  /** Where relative paths and the default files are resolved from (default: process.cwd()). */
  cwd?: string
}

export interface RestartOptions extends TargetSelector {
  /** Default 300 000 (5 minutes). */
  timeoutMs?: number
  /** Puma's log file, when it is not where the master's stdout goes. */
  log?: string
  /** A systemd unit whose journal to follow (found on its own when the master logs to the journal). */
  journal?: string
  /** false: send and return, as pumactl does. Default true. */
  wait?: boolean
  /** Default: 'signal' when the master is known, else 'control'. */
  via?: Via
  expectDir?: string
  healthUrl?: string
  healthTimeoutMs?: number
  /** Abort to stop waiting (nothing more is sent to Puma); the result then rejects with exit code 130. */
  signal?: AbortSignal
}

export type RestartEvent =
  | {type: 'sent'; start: RestartStart}
  | {type: 'update'; notices: readonly Notice[]; progress: RestartProgress}

/** A running restart: its events as an async iterator, and its result. */
export interface RestartRun extends AsyncIterable<RestartEvent> {
  readonly result: Promise<RestartReport>
}

export function phasedRestart(options: RestartOptions = {}): RestartRun {
  return startRestart('phased', options)
}

export function restart(options: RestartOptions = {}): RestartRun {
  return startRestart('hot', options)
}

/** The master and its workers from the process table, with /stats's view where a control server is known. */
export async function status(options: TargetSelector & {signal?: AbortSignal} = {}): Promise<ServerStatus> {
  const flags = selectorFlags(options)
  const target = await findTarget(flags)
  const control = findControl(flags, target)
  const stats = control ? await fetchStats(control, {timeoutMs: 3000, signal: options.signal}).catch((error: Error) => error) : undefined
  return serverStatus(target, stats)
}

function startRestart(kind: RestartKind, options: RestartOptions): RestartRun {
  const events: RestartEvent[] = []
  let wake: (() => void) | undefined
  let finished = false
  const push = (event: RestartEvent) => {
    events.push(event)
    wake?.()
  }

  const result = (async () => {
    const flags = selectorFlags(options)
    const reached = await reach(flags)
    return runRestart({
      kind,
      master: reached.target?.master,
      control: reached.control,
      via: viaFor(reached, options.via),
      timeoutMs: options.timeoutMs ?? 300_000,
      logPath: options.log,
      journal: options.journal,
      wait: options.wait ?? true,
      signal: options.signal ?? new AbortController().signal,
      cwd: options.cwd,
      expectDir: options.expectDir,
      healthUrl: options.healthUrl,
      healthTimeoutMs: options.healthTimeoutMs,
      onStart: (start) => push({type: 'sent', start}),
      onUpdate: (state) => push({type: 'update', notices: state.notices, progress: progress(state)}),
    })
  })().finally(() => {
    finished = true
    wake?.()
  })
  // Iterating is optional: a caller that only awaits `result` must not see an unhandled rejection here.
  result.catch(() => {})

  return {
    result,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (events.length > 0) yield events.shift()!
        if (finished) return
        await new Promise<void>((resolve) => (wake = resolve))
        wake = undefined
      }
    },
  }
}

function selectorFlags(options: TargetSelector) {
  return {
    pid: options.pid === undefined ? undefined : String(options.pid),
    pidfile: options.pidfile,
    state: options.state,
    dir: options.dir,
    tag: options.tag,
    cwd: options.cwd,
    'control-url': options.controlUrl,
    'control-token': options.controlToken,
  }
}
