/**
 * What a line of Puma's log means, independent of the Puma version that wrote it.
 * `prefixPid` is the `[pid] ` prefix Puma writes in cluster mode: the master's PID on master
 * lines, the worker's PID on lines a worker writes. Undefined in single mode or with a custom
 * log_formatter. `line` is the raw text without its newline.
 */
export type PumaEvent =
  | {address: string; kind: 'listening'} // "* Listening on ...", "* Inherited ...", "* Activated ..."
  | {bootSeconds?: number; index?: number; kind: 'worker-booted'; phase: number; workerPid: number} // index is undefined before 2.8
  | {
      during: 'boot' | 'check-in' | 'unknown'
      index?: number
      kind: 'worker-timed-out'
      seconds?: number
      workerPid: number
    } // "! Terminating timed out worker..."
  | {index: number; kind: 'worker-terminating'; workerPid: number} // culled after TTOU
  | {index?: number; kind: 'worker-early-termination'} // "Early termination of worker" (worker's prefix; no index: only /stats knows it)
  | {kind: 'app-load-error'; message: string} // "! Unable to load application: RuntimeError: boom"
  | {kind: 'banner-restarts'; phased: boolean; refork?: boolean} // "Restarts: (✔) hot (✖) phased (✔) refork" (refork mark 6.6.1+), "* Phased restart available"
  | {kind: 'banner-start'; mode: 'cluster' | 'single'} // "Puma starting in cluster mode..."
  | {kind: 'banner-version'; version: string} // "* Version 4.3.12 ..." / "* Puma version: 5.6.5 ..."
  | {kind: 'banner-workers'; workers: number} // "* Process workers: 2" / "*      Workers: 2"
  | {kind: 'fatal'; message: string} // "ERROR: ...", "! Seppuku is the only choice."
  | {kind: 'hot-restart'} // "* Restarting..."
  | {kind: 'idle-stop'} // 6.4+ idle_timeout: "- All workers reached idle timeout" (cluster), "- Idle timeout reached" (single); the master then stops
  | {kind: 'other'} // anything else: continuation lines, app output, backtraces
  | {kind: 'phase-start'; phase: number; refork: boolean} // "- Starting phased worker restart, phase: N" / "- Starting worker refork, phase: N"
  | {kind: 'phased-fallback'} // "* phased-restart called but not available, restarting normally." or 2.2-2.3 "App preloaded, phased restart unavailable"
  | {kind: 'preloading'} // "* Preloading application"
  | {kind: 'ready'} // "Use Ctrl-C to stop": single mode is serving; not readiness in cluster mode
  | {kind: 'ruby-exception'; message: string} // Ruby's dump of an uncaught exception, on stderr: "config.ru:3:in 'block in <main>': boom (RuntimeError)"
  | {kind: 'shutdown'} // "- Gracefully shutting down workers...", "=== puma shutdown", "- Goodbye!", "- Gracefully stopping..."
  | {kind: 'worker-boot-error'} // "! Unable to start worker" (worker's prefix)
  | {kind: 'worker-starting'} // "+ Gemfile in context: PATH" (worker's prefix): a worker began booting; the only line in some silent failure loops
  | {kind: 'worker-stopping'; workerPid: number} // "- Stopping PID for phased upgrade..." / "for refork..."

export type PumaEventKind = PumaEvent['kind']

/** `source` 'stats': told from two /stats answers (stats-events.ts), not read from a log; `line` then describes it. */
export type LogEvent = PumaEvent & {line: string; prefixPid?: number; source?: 'stats'}
