import {type ControlEndpoint, controlRequest, shownEndpoint} from '../control/client.js'
import {CtlError, EXIT, hasExitCode} from '../errors.js'
import {waitForExit} from '../target/liveness.js'
import {masterOf, type Reach} from '../target/reach.js'
import {pollUntil} from '../wait/poll.js'
import {deliver, type Via} from './deliver.js'

export interface StopOptions {
  /** 'stop' drains requests (SIGTERM, /stop); 'halt' kills the master at once (SIGQUIT, /halt). */
  command: 'halt' | 'stop'
  signal?: AbortSignal
  timeoutMs: number
  via: Via
}

export interface StopResult {
  durationMs: number
  pid?: number
  sent: string
}

/**
 * Sends the stop, then waits until the master has exited: Puma exits only after its workers. With
 * only a control URL, "exited" means the control server no longer accepts connections.
 */
export async function stopServer(to: Reach, options: StopOptions): Promise<StopResult> {
  const started = Date.now()
  const {sent} = await deliver(options.command, to, options)
  const exited =
    to.kind === 'master'
      ? await waitForExit(to.target.master.pid, {
          identity: to.target.master.startTicks,
          timeoutMs: options.timeoutMs,
          signal: options.signal,
        })
      : await waitForControlToClose(to.control, options.timeoutMs, options.signal)
  const who = to.kind === 'master' ? `pid ${to.target.master.pid}` : `the Puma at ${shownEndpoint(to.control)}`
  if (!exited) {
    if (options.signal?.aborted)
      throw new CtlError('interrupted', `stopped waiting: ${who} had been sent ${sent} and was still running`)
    throw new CtlError('timedOut', `${who} is still running ${Math.round(options.timeoutMs / 1000)} s after ${sent}`, {
      suggestion:
        options.command === 'stop'
          ? 'workers may still be draining long requests; `ctl halt` stops at once'
          : undefined,
    })
  }

  return {pid: masterOf(to)?.pid, sent, durationMs: Date.now() - started}
}

/** Until nothing listens on the control URL any more (true), or false at the deadline or once aborted. */
async function waitForControlToClose(
  control: ControlEndpoint,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  // No request starts after the deadline: the look says so itself.
  const closed = await pollUntil(
    async () => {
      if (Date.now() >= deadline) return false
      try {
        await controlRequest(control, 'stats', {signal, timeoutMs: Math.max(1, deadline - Date.now())})
      } catch (error) {
        if (hasExitCode(error, EXIT.noMaster)) return true // nothing listens any more
        if (!hasExitCode(error, EXIT.timedOut)) throw error
      }

      return undefined
    },
    {intervalMs: 100, signal},
  )
  return closed.status === 'done' && closed.value
}
