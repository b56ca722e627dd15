// The single entry point bin/run.js loads, bundled into dist/ctl.js with @oclif/core: one file to
// read and compile instead of ~200 modules, which is most of a Node CLI's start-up time.
import GcStats from './commands/gc-stats.js'
import Gc from './commands/gc.js'
import Halt from './commands/halt.js'
import Info from './commands/info.js'
import PhasedRestart from './commands/phased-restart.js'
import Refork from './commands/refork.js'
import ReloadWorkerDirectory from './commands/reload-worker-directory.js'
import ReopenLogs from './commands/reopen-logs.js'
import Restart from './commands/restart.js'
import Stats from './commands/stats.js'
import Status from './commands/status.js'
import Stop from './commands/stop.js'
import ThreadBacktraces from './commands/thread-backtraces.js'
import WorkerCountDown from './commands/worker-count-down.js'
import WorkerCountUp from './commands/worker-count-up.js'

export {execute} from '@oclif/core'

/** oclif's "explicit" command discovery (package.json oclif.commands) reads this map. */
export const COMMANDS = {
  gc: Gc,
  'gc-stats': GcStats,
  halt: Halt,
  info: Info,
  'phased-restart': PhasedRestart,
  refork: Refork,
  'reload-worker-directory': ReloadWorkerDirectory,
  'reopen-logs': ReopenLogs,
  restart: Restart,
  stats: Stats,
  status: Status,
  stop: Stop,
  'thread-backtraces': ThreadBacktraces,
  'worker-count-down': WorkerCountDown,
  'worker-count-up': WorkerCountUp,
}
