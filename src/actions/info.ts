import {usageError} from '../errors.js'
import {pumaAtLeast} from '../log/dialects.js'
import {sendSignal} from '../signals.js'
import {type Target} from '../target/find.js'

export interface InfoResult {
  pid: number
  signal: NodeJS.Signals
}

/**
 * Asks Puma to write its threads' backtraces to its log. On Linux that signal is SIGPWR, which
 * Puma traps only from 8.0: before, SIGPWR kills it (and leaves a stale pidfile). So it is sent
 * only to a master whose title says 8.0 or later.
 */
export function info(target: Target): InfoResult {
  const {pid, version} = target.master
  if (process.platform === 'linux' && !pumaAtLeast(version, '8.0.0')) {
    throw usageError(
      `refusing to send SIGPWR to Puma ${version ?? '(before 2.8)'}: before Puma 8.0 SIGPWR kills the server`,
      {
        suggestion: '`ctl thread-backtraces` asks the control server for the same backtraces',
      },
    )
  }

  return {pid, signal: sendSignal(target.master, 'info')}
}
