export type {PumaStats} from './control/stats.js'
/**
 * puma-ctl's programmatic API: what the `ctl` commands wrap.
 *
 *   import {phasedRestart} from 'puma-ctl'
 *   const run = phasedRestart({pidfile: 'tmp/pids/puma.pid', timeoutMs: 120_000})
 *   for await (const event of run) if (event.type === 'update') console.log(event.progress.label)
 *   const report = await run.result // rejects with a CtlError carrying exitCode (5, 6, 7, 8, …)
 */
export {CtlError, EXIT, type ExitCode} from './errors.js'
export {
  phasedRestart,
  refork,
  restart,
  type RestartEvent,
  type RestartOptions,
  type RestartRun,
  waitFor,
  type WaitOptions,
} from './restart/api.js'
export type {Notice, RestartOutcome, RestartProgress, WorkerRecord} from './restart/machine.js'
export type {QuietReport} from './restart/resume-stats.js'
export type {WaitReport} from './restart/resume.js'
export type {RestartReport, RestartStart} from './restart/run.js'
export {type ServerStatus, status, type WorkerStatus} from './status.js'
export type {TargetSelector} from './target/selector.js'
