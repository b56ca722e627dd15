import {CtlError, EXIT, STOPPING_SIGNALS, type StoppingSignal} from '../errors.js'

/** What of `process` the listener needs: a fake emitter in tests. */
export type SignalSource = Pick<NodeJS.Process, 'off' | 'on'>

export interface Interrupts {
  /** Removes the listeners: a signal after the command has ended does what it does by default. */
  dispose(): void
  /** The first stopping signal ctl received, if any. */
  received(): StoppingSignal | undefined
  /** Aborted by the first SIGINT, SIGTERM or SIGHUP. */
  readonly signal: AbortSignal
}

/**
 * Listens for SIGINT, SIGTERM and SIGHUP while a command runs: the first one aborts `signal`, which
 * ends every wait; ctl then says where it stood, reaps its children and exits with that signal's
 * code. Later ones change nothing (the clean-up under way is bounded).
 *
 * `on`, never `once`: signal-exit (under ora's cursor restore and execa's clean-up) re-raises a
 * signal, killing ctl before it can say anything, when it finds itself the only listener; a `once`
 * listener is removed before the listeners run, so it would find itself alone.
 */
export function listenForInterrupts(source: SignalSource = process): Interrupts {
  const controller = new AbortController()
  let first: StoppingSignal | undefined
  const listeners = Object.keys(STOPPING_SIGNALS).map((name) => {
    const signal = name as StoppingSignal
    const listener = () => {
      first ??= signal
      controller.abort(signal)
    }

    source.on(signal, listener)
    return [signal, listener] as const
  })
  return {
    signal: controller.signal,
    received: () => first,
    dispose() {
      for (const [signal, listener] of listeners) source.off(signal, listener)
    },
  }
}

/**
 * An `interrupted` error as the signal that caused it ends ctl: its exit code (143 for SIGTERM,
 * 129 for SIGHUP), the signal named in the message (Ctrl-C's message stays as it was) and in
 * --json's `signal`. Any other error is left as it is.
 */
export function stoppedBy(error: unknown, signal: StoppingSignal | undefined): unknown {
  if (!signal || !(error instanceof CtlError) || error.exitCode !== EXIT.interrupted) return error
  const message = signal === 'SIGINT' ? error.message : `${signal} received: ${error.message}`
  return new CtlError(STOPPING_SIGNALS[signal], message, {
    data: {...error.data, signal},
    details: error.details,
    suggestion: error.suggestion,
  })
}
