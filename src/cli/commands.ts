import {type CommandSpec} from './command.js'
import {type FlagSpecs} from './flags.js'

/** Every command by its id, loaded only when run: the fast path pays for one command's code. */
export const COMMAND_LOADERS: Record<string, () => Promise<{default: CommandSpec<FlagSpecs, unknown>}>> = {
  gc: () => import('../commands/gc.js'),
  'gc-stats': () => import('../commands/gc-stats.js'),
  halt: () => import('../commands/halt.js'),
  info: () => import('../commands/info.js'),
  'phased-restart': () => import('../commands/phased-restart.js'),
  refork: () => import('../commands/refork.js'),
  'reload-worker-directory': () => import('../commands/reload-worker-directory.js'),
  'reopen-logs': () => import('../commands/reopen-logs.js'),
  restart: () => import('../commands/restart.js'),
  start: () => import('../commands/start.js'),
  stats: () => import('../commands/stats.js'),
  status: () => import('../commands/status.js'),
  stop: () => import('../commands/stop.js'),
  'thread-backtraces': () => import('../commands/thread-backtraces.js'),
  wait: () => import('../commands/wait.js'),
  'worker-count-down': () => import('../commands/worker-count-down.js'),
  'worker-count-up': () => import('../commands/worker-count-up.js'),
}
