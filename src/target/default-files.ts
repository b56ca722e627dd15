/** Where ctl looks, in this order, when no target is given (shown in --help). */
export const DEFAULT_TARGET_FILES = [
  'tmp/pids/puma.state',
  'tmp/puma.state',
  'tmp/pids/puma.pid',
  'tmp/pids/server.pid',
  'tmp/puma.pid',
  'tmp/server.pid',
] as const
