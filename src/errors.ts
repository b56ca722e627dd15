/** ctl's exit codes: stable and documented (README's table, checked by a test), so deploy hooks can branch on them. */
export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  noMaster: 3,
  notPermitted: 4,
  workerFailed: 5,
  timedOut: 6,
  masterDied: 7,
  checkFailed: 8,
  hangup: 129,
  interrupted: 130,
  terminated: 143,
} as const

export type ExitName = keyof typeof EXIT
export type ExitCode = (typeof EXIT)[ExitName]

export function exitNameOf(code: ExitCode): ExitName {
  return (Object.keys(EXIT) as ExitName[]).find((name) => EXIT[name] === code)!
}

/**
 * The signals that stop ctl's waits, and the exit code each ends ctl with: 128 + the signal's
 * number, what a shell reports for a process that signal killed. ctl exits by itself instead, so
 * that it can say where the wait stood and reap its children first.
 */
export const STOPPING_SIGNALS = {
  SIGHUP: 'hangup',
  SIGINT: 'interrupted',
  SIGTERM: 'terminated',
} as const satisfies Partial<Record<NodeJS.Signals, ExitName>>

export type StoppingSignal = keyof typeof STOPPING_SIGNALS

export interface ErrorOptions {
  /** Machine-readable extras for --json. */
  data?: Record<string, unknown>
  /** Extra lines shown after the message (a table of candidates, a worker's error lines). */
  details?: string[]
  /** What the user can do about it, shown on its own line. */
  suggestion?: string
}

/** Every error ctl expects carries its exit code; render/error.ts is the only place that renders it. */
export class CtlError extends Error {
  readonly data?: Record<string, unknown>
  readonly details: string[]
  readonly exitCode: ExitCode
  readonly suggestion?: string

  constructor(exit: ExitName, message: string, options: ErrorOptions = {}) {
    super(message)
    this.name = 'CtlError'
    this.exitCode = EXIT[exit]
    this.suggestion = options.suggestion
    this.details = options.details ?? []
    this.data = options.data
  }
}

/** Whether `error` is ctl's own with that exit code (e.g. noMaster: nothing listens on the control URL). */
export function hasExitCode(error: unknown, code: ExitCode): error is CtlError {
  return error instanceof CtlError && error.exitCode === code
}

export const usageError = (message: string, options?: ErrorOptions) => new CtlError('usage', message, options)
export const noMasterError = (message: string, options?: ErrorOptions) => new CtlError('noMaster', message, options)
export const notPermittedError = (message: string, options?: ErrorOptions) =>
  new CtlError('notPermitted', message, options)

/** Once ctl is interrupted it sends Puma nothing: the check before each signal or command it sends. */
export function refuseIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CtlError('interrupted', 'interrupted before anything was sent to Puma')
}
