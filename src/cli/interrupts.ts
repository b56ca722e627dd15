import {isatty} from 'node:tty'

import {CtlError, EXIT, STOPPING_SIGNALS, type StoppingSignal} from '../errors.js'

/** What of `process` the listener needs: a fake in tests. */
export type SignalSource = Pick<NodeJS.Process, 'kill' | 'off' | 'on' | 'pid' | 'removeAllListeners'>

/** A stream ctl writes to (stdout, stderr), as far as its errors go. */
export type OutputStream = Pick<NodeJS.EventEmitter, 'listenerCount' | 'off' | 'on'>

/** How ctl's surroundings are seen: the real process, its terminal and its standard output streams by default. */
export interface Surroundings {
  isTerminal?: (fd: number) => boolean
  outputs?: OutputStream[]
  process?: SignalSource
}

export interface Interrupts {
  /**
   * Removes the listeners: a signal after the command has ended does what it does by default.
   * Then, when a standard stream's terminal has hung up meanwhile (its SSH session closed), ends
   * ctl at once by SIGHUP's default action, which a shell reports as the same 129: Node 20 aborts
   * in its own exit when it restores a terminal that has hung up (nodejs/node#51519, fixed in
   * Node 24), with a native stack trace instead of the exit code.
   */
  dispose(): void
  /** The first stopping signal ctl received, if any. */
  received(): StoppingSignal | undefined
  /** Aborted by the first SIGINT, SIGTERM or SIGHUP. */
  readonly signal: AbortSignal
}

/**
 * Listens for SIGINT, SIGTERM and SIGHUP while a command runs: the first one aborts `signal`, which
 * ends every wait; ctl then says where it stood, reaps its children and exits with that signal's
 * code. Later ones change nothing (the clean-up under way is bounded). A terminal that hangs up
 * under stdout or stderr (EIO: the spinner's next frame finds it first) counts as SIGHUP.
 *
 * `on`, never `once`: signal-exit (under ora's cursor restore and execa's clean-up) re-raises a
 * signal, killing ctl before it can say anything, when it finds itself the only listener; a `once`
 * listener is removed before the listeners run, so it would find itself alone.
 */
export function listenForInterrupts(surroundings: Surroundings = {}): Interrupts {
  const {isTerminal = isatty, outputs = [process.stdout, process.stderr], process: source = process} = surroundings
  // Node restores at exit the standard streams that were a terminal when it started.
  const terminals = [0, 1, 2].filter((fd) => isTerminal(fd))
  const controller = new AbortController()
  let first: StoppingSignal | undefined
  const stop = (signal: StoppingSignal) => {
    first ??= signal
    controller.abort(signal)
  }

  const listeners = Object.keys(STOPPING_SIGNALS).map((name) => {
    const signal = name as StoppingSignal
    const listener = () => stop(signal)
    source.on(signal, listener)
    return [signal, listener] as const
  })
  const outputListeners = outputs.map((output) => {
    const listener = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EIO') stop('SIGHUP')
      // Anything else is for the stream's other listeners (the fast path's EPIPE); alone, as if none listened.
      else if (output.listenerCount('error') === 1) throw error
    }

    output.on('error', listener)
    return [output, listener] as const
  })
  return {
    signal: controller.signal,
    received: () => first,
    dispose() {
      for (const [signal, listener] of listeners) source.off(signal, listener)
      for (const [output, listener] of outputListeners) output.off('error', listener)
      if (terminals.every((fd) => isTerminal(fd))) return
      // Others' listeners too (signal-exit's would let ctl run on to Node's exit).
      source.removeAllListeners('SIGHUP')
      source.kill(source.pid, 'SIGHUP')
    },
  }
}

/**
 * ctl's error after a signal, as the signal ends ctl: its exit code (130, 143 for SIGTERM, 129 for
 * SIGHUP), the signal named in the message (Ctrl-C's interruption message stays as it was) and in
 * --json's `signal`. Without a signal, or for an error of ctl itself, the error is left as it is.
 */
export function stoppedBy(error: unknown, signal: StoppingSignal | undefined): unknown {
  if (!signal || !(error instanceof CtlError)) return error
  // A step that cannot be cut short (Puma's reading of a config, up to its time bound) failed after the
  // signal: the signal is what the user asked for, so its exit code, with what the step said.
  const interrupted = error.exitCode === EXIT.interrupted
  const message =
    signal === 'SIGINT' && interrupted
      ? error.message
      : `${signal} received${interrupted ? ':' : ', then'} ${error.message}`
  return new CtlError(STOPPING_SIGNALS[signal], message, {
    data: {...error.data, signal},
    details: error.details,
    suggestion: error.suggestion,
  })
}
