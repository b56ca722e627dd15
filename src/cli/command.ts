import {type FlagSpecs, type FlagValues} from './flags.js'

/** What a command may do besides returning its result, the same under oclif and on the fast path. */
export interface CommandContext {
  /** --json: the result is printed as JSON, and log() and note() print nothing. */
  readonly json: boolean
  /** A result line, to stdout. */
  log(text: string): void
  /** Progress and warnings, to stderr, so stdout stays for results. */
  note(text: string): void
  /** What came after `--` on the command line, for a command that passes it on (spec.passThrough). */
  readonly passThrough: readonly string[]
  /** A live display (spinner), stopped before an error is printed. */
  showing(view: {stop(): void}): void
  /** Aborted by Ctrl-C (SIGINT), SIGTERM or SIGHUP: a long wait ends cleanly. */
  readonly signal: AbortSignal
  /** Where log() and note() go, for what must know the terminal (colour, a spinner); the environment (NO_COLOR). */
  readonly terminal: Terminal
}

export interface Terminal {
  readonly env: NodeJS.ProcessEnv
  readonly stderr: NodeJS.WriteStream
  readonly stdout: NodeJS.WriteStream
}

/**
 * A command: its help text, its flags as data, and what it does with them. Free of oclif, so the
 * fast path can run it; cli/oclif.ts makes an oclif command of it for --help, the manifest and
 * completion.
 */
export interface CommandSpec<F extends FlagSpecs = FlagSpecs, R = unknown> {
  description: string
  /** `<%= config.bin %>` stands for `ctl`, as oclif renders it. */
  examples: string[]
  flags: F
  /** The command takes arguments after `--` and passes them on (to Puma): what they are, for --help. */
  passThrough?: string
  run(flags: FlagValues<F>, context: CommandContext): Promise<R>
  summary: string
}

/** Checks the spec and infers its flags' types for run(). */
export const defineCommand = <F extends FlagSpecs, R>(spec: CommandSpec<F, R>): CommandSpec<F, R> => spec
