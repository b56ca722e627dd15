import {noMasterError, notPermittedError} from './errors.js'
import {hasExited, type Kill} from './target/liveness.js'

const RUN_AS = 'run ctl as the user that runs Puma (or with sudo -u)'

/** Which signal each command sends to the Puma master (docs/puma-facts.md §2). */
export const COMMAND_SIGNALS = {
  'phased-restart': 'SIGUSR1',
  restart: 'SIGUSR2',
  stop: 'SIGTERM',
  halt: 'SIGQUIT',
  'reopen-logs': 'SIGHUP',
  'worker-count-up': 'SIGTTIN',
  'worker-count-down': 'SIGTTOU',
  refork: 'SIGURG',
  // Puma 8 dumps thread backtraces on SIGPWR on Linux (no SIGINFO there); BSD and macOS have SIGINFO.
  info: process.platform === 'linux' ? 'SIGPWR' : 'SIGINFO',
} as const satisfies Record<string, NodeJS.Signals>

export type SignalCommand = keyof typeof COMMAND_SIGNALS

/** A verified master: its PID, and when it started (so that a reused PID is not it). */
export interface Signallable {
  pid: number
  startTicks?: number
}

/**
 * Sends a command's signal. The PID is checked once more here, whatever the caller did: kill(0)
 * signals our own process group, kill(-1) every process we may signal, and 1 is init; and the
 * process must still be the one verified (seconds may pass between verifying and signalling).
 */
export function sendSignal(
  master: Signallable,
  command: SignalCommand,
  kill: Kill = process.kill.bind(process),
): NodeJS.Signals {
  const {pid} = master
  if (!Number.isSafeInteger(pid) || pid <= 1) throw noMasterError(`refusing to signal pid ${pid}`)
  if (master.startTicks !== undefined && hasExited(pid, master.startTicks))
    throw noMasterError(`pid ${pid} has exited since ctl verified it; nothing was sent`)
  const signal = COMMAND_SIGNALS[command]
  try {
    kill(pid, signal)
  } catch (error) {
    const {code} = error as NodeJS.ErrnoException
    if (code === 'EPERM') throw notPermittedError(`not permitted to send ${signal} to pid ${pid}`, {suggestion: RUN_AS})
    if (code === 'ESRCH') throw noMasterError(`pid ${pid} exited before ${signal} could be sent`)
    throw error
  }

  return signal
}

/**
 * Whether ctl may signal the master at all (kill(pid, 0): another user's process is EPERM). Asked
 * before anything else about a command that signals, so that the wrong user hears the true reason
 * first, not advice about logs that would end in exit 4 anyway. A gone process is left to the checks
 * that say so.
 */
export function assertMaySignal({pid}: Signallable, kill: Kill = process.kill.bind(process)): void {
  try {
    kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPERM')
      throw notPermittedError(`not permitted to signal pid ${pid}: it runs as another user`, {suggestion: RUN_AS})
  }
}
