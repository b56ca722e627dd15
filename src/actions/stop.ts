import {CtlError} from '../errors.js'
import {sendSignal} from '../signals.js'
import {type Kill, waitForExit} from '../target/liveness.js'
import {type Target} from '../target/find.js'

export interface StopOptions {
  /** 'stop' drains requests (SIGTERM); 'halt' kills the master at once (SIGQUIT, untrapped by Puma). */
  command: 'stop' | 'halt'
  timeoutMs: number
  signal?: AbortSignal
  kill?: Kill
}

export interface StopResult {
  pid: number
  signal: NodeJS.Signals
  durationMs: number
}

/** Sends the stop signal, then waits until the master has exited: Puma exits only after its workers. */
export async function stopServer(target: Target, options: StopOptions): Promise<StopResult> {
  const started = Date.now()
  const {pid} = target.master
  const signal = sendSignal(pid, options.command, options.kill)
  if (!(await waitForExit(pid, {timeoutMs: options.timeoutMs, signal: options.signal}))) {
    if (options.signal?.aborted) throw new CtlError('interrupted', `stopped waiting: pid ${pid} had been sent ${signal} and was still running`)
    throw new CtlError('timedOut', `pid ${pid} is still running ${Math.round(options.timeoutMs / 1000)} s after ${signal}`, {
      suggestion: options.command === 'stop' ? 'workers may still be draining long requests; `ctl halt` stops at once' : undefined,
    })
  }

  return {pid, signal, durationMs: Date.now() - started}
}
