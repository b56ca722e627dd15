import {type Via} from '../actions/deliver.js'
import {masterOf, reach, viaFor} from '../target/reach.js'
import {type TargetSelector} from '../target/selector.js'
import {type Notice, progress, type RestartKind, type RestartProgress} from './machine.js'
import {type RestartReport, type RestartStart, runRestart} from './run.js'

export interface RestartOptions extends TargetSelector {
  expectDir?: string
  healthTimeoutMs?: number
  healthUrl?: string
  /** A systemd unit whose journal to follow (found on its own when the master logs to the journal). */
  journal?: string
  /** Puma's log file, when it is not where the master's stdout goes. */
  log?: string
  /** Abort to stop waiting (nothing more is sent to Puma); the result then rejects with exit code 130. */
  signal?: AbortSignal
  /** Default 300 000 (5 minutes). */
  timeoutMs?: number
  /** Default: 'signal' when the master is known, else 'control'. */
  via?: Via
  /** false: send and return, as pumactl does. Default true. */
  wait?: boolean
}

export type RestartEvent =
  {notices: readonly Notice[]; progress: RestartProgress; type: 'update'} | {start: RestartStart; type: 'sent'}

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

function startRestart(kind: RestartKind, options: RestartOptions): RestartRun {
  const events: RestartEvent[] = []
  let wake: (() => void) | undefined
  let finished = false
  const push = (event: RestartEvent) => {
    events.push(event)
    wake?.()
  }

  const result = (async () => {
    const reached = await reach(options)
    return runRestart({
      kind,
      master: masterOf(reached),
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
