import {type Via} from '../actions/deliver.js'
import {EXIT, hasExitCode} from '../errors.js'
import {reach, viaFor} from '../target/reach.js'
import {type TargetSelector} from '../target/selector.js'
import {Inbox} from '../wait/inbox.js'
import {realRestartDeps} from './deps.js'
import {type Notice, progress, type RestartKind, type RestartProgress, type RestartState} from './machine.js'
import {decodeResume} from './resume-token.js'
import {masterGone, waitForRestart, type WaitReport} from './resume.js'
import {type RestartReport, type RestartStart, runRestart} from './run.js'

export interface RestartOptions extends TargetSelector {
  /** Prove the new release boots before the signal: true forces it, false skips it; default: before every hot restart. */
  check?: boolean
  /** The user's own check instead (sh -c in the app folder, as the master's user; exit 0 passes). */
  checkCommand?: string
  /** Default 60 000. */
  checkTimeoutMs?: number
  expectDir?: string
  healthTimeoutMs?: number
  healthUrl?: string
  /** A systemd unit whose journal to follow (found on its own when the master logs to the journal). */
  journal?: string
  /** Puma's log file, when it is not where the master's stdout goes. */
  log?: string
  /** Abort to stop waiting (nothing more is sent to Puma); the result then rejects with exit code 130. */
  signal?: AbortSignal
  /** After the restart is done, keep watching this long: a new worker that dies meanwhile fails it. Default 0 (off). */
  soakMs?: number
  /** No progress (no worker stopped, none booted) for this long: exit 6 naming the stuck step. 0: off. Default: from Puma's timeouts for a phased restart (stall-default.ts), none for a hot one. */
  stallMs?: number
  /** Also an update when Puma begins stopping an old worker: news for an event stream (--ndjson), not for a progress label. */
  tellStops?: boolean
  /** Default 300 000 (5 minutes). */
  timeoutMs?: number
  /** Default: 'signal' when the master is known, else 'control'. */
  via?: Via
  /** false: send and return, as pumactl does. Default true. */
  wait?: boolean
}

export type RestartEvent =
  | {
      notices: readonly Notice[]
      progress: RestartProgress
      /** The old workers' PIDs Puma has said it is stopping so far (an event stream tells each once). */
      stopping: readonly number[]
      type: 'update'
    }
  | {start: RestartStart; type: 'sent'}

/** A running restart: its events as an async iterator, and its result. */
export interface RestartRun<R = RestartReport> extends AsyncIterable<RestartEvent> {
  readonly result: Promise<R>
}

/** `ctl wait`: the options of a restart that concern its wait, and the token of the restart to follow. */
export type WaitOptions = Pick<
  RestartOptions,
  | 'expectDir'
  | 'healthTimeoutMs'
  | 'healthUrl'
  | 'signal'
  | 'soakMs'
  | 'stallMs'
  | 'tellStops'
  | 'timeoutMs'
  | keyof TargetSelector
> & {
  /** The `resume` token a restart printed (--no-wait, or an interrupted wait); without it, /stats's phases decide. */
  since?: string
}

export function phasedRestart(options: RestartOptions = {}): RestartRun {
  return startRestart('phased', options)
}

export function restart(options: RestartOptions = {}): RestartRun {
  return startRestart('hot', options)
}

/** A refork (fork_worker): followed like a phased restart that leaves worker 0 alone; refused first when Puma says it cannot. */
export function refork(options: RestartOptions = {}): RestartRun {
  return startRestart('phased', options, true)
}

/**
 * Follows a restart already sent (by `--no-wait`, an interrupted wait, or another tool) to the
 * verdict the restart command would have given; sends nothing. A malformed token is refused before
 * anything is looked up; a master that has exited since the token was made is the restart's exit 7.
 */
export function waitFor(options: WaitOptions = {}): RestartRun<WaitReport> {
  return running(async (push, onUpdate) => {
    const since = options.since === undefined ? undefined : decodeResume(options.since)
    const reached = await reach(options).catch((error: unknown) => {
      const gone = since && realRestartDeps.hasExited(since.master.pid, since.master.startTicks)
      throw gone && hasExitCode(error, EXIT.noMaster) ? masterGone(since) : error
    })
    return waitForRestart({
      since,
      to: reached,
      timeoutMs: options.timeoutMs ?? 300_000,
      soakMs: options.soakMs,
      stallMs: options.stallMs,
      signal: options.signal ?? new AbortController().signal,
      expectDir: options.expectDir,
      healthUrl: options.healthUrl,
      healthTimeoutMs: options.healthTimeoutMs,
      onStart: (start) => push({type: 'sent', start}),
      onUpdate,
    })
  }, options.tellStops)
}

/** Runs `work` with an event stream that closes when it settles. */
function running<R>(
  work: (push: (event: RestartEvent) => void, onUpdate: (state: RestartState) => void) => Promise<R>,
  stops?: boolean,
): RestartRun<R> {
  const events = new Inbox<RestartEvent>()
  const push = (event: RestartEvent) => events.push(event)
  const result = work(push, updatesWorthTelling(push, {stops})).finally(() => events.close())
  // Iterating is optional: a caller that only awaits `result` must not see an unhandled rejection here.
  result.catch(() => {})
  return {result, [Symbol.asyncIterator]: () => events[Symbol.asyncIterator]()}
}

function startRestart(kind: RestartKind, options: RestartOptions, isRefork = false): RestartRun {
  return running(async (push, onUpdate) => {
    const reached = await reach(options)
    return runRestart({
      kind,
      refork: isRefork,
      to: reached,
      via: viaFor(reached, options.via),
      timeoutMs: options.timeoutMs ?? 300_000,
      soakMs: options.soakMs,
      stallMs: options.stallMs,
      logPath: options.log,
      journal: options.journal,
      wait: options.wait ?? true,
      signal: options.signal ?? new AbortController().signal,
      cwd: options.cwd,
      expectDir: options.expectDir,
      healthUrl: options.healthUrl,
      healthTimeoutMs: options.healthTimeoutMs,
      check: options.check,
      checkCommand: options.checkCommand,
      checkTimeoutMs: options.checkTimeoutMs,
      configFile: options.configFile,
      onStart: (start) => push({type: 'sent', start}),
      onUpdate,
    })
  }, options.tellStops)
}

/**
 * The machine's steps as update events, only those that tell something new: a notice, or a change
 * in the progress (the elapsed time aside). App output moves neither, so a caller that only awaits
 * `result` does not hold an event per log line. With `stops`, an old worker stopping is news too.
 */
export function updatesWorthTelling(
  emit: (event: RestartEvent) => void,
  {stops = false}: {stops?: boolean} = {},
): (state: RestartState) => void {
  let told: string | undefined
  return (state) => {
    const now = progress(state)
    const key = JSON.stringify([
      now.status,
      now.restart,
      now.phase,
      now.booted,
      now.expected,
      now.label,
      stops ? state.stoppedPids.length : 0,
    ])
    if (state.notices.length === 0 && key === told) return
    told = key
    emit({type: 'update', notices: state.notices, progress: now, stopping: state.stoppedPids})
  }
}
