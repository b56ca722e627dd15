// The single entry point bin/run.js loads, bundled into dist/ctl.js with @oclif/core: one file to
// read and compile instead of ~200 modules, which is most of a Node CLI's start-up time.
import Halt from './commands/halt.js'
import PhasedRestart from './commands/phased-restart.js'
import ReopenLogs from './commands/reopen-logs.js'
import Restart from './commands/restart.js'
import Status from './commands/status.js'
import Stop from './commands/stop.js'
import WorkerCountDown from './commands/worker-count-down.js'
import WorkerCountUp from './commands/worker-count-up.js'

export {execute} from '@oclif/core'

/** oclif's "explicit" command discovery (package.json oclif.commands) reads this map. */
export const COMMANDS = {
  halt: Halt,
  'phased-restart': PhasedRestart,
  'reopen-logs': ReopenLogs,
  restart: Restart,
  status: Status,
  stop: Stop,
  'worker-count-down': WorkerCountDown,
  'worker-count-up': WorkerCountUp,
}
