import {type CommandContext, type CommandSpec, type Terminal} from '../../src/cli/command.js'
import {type FlagSpecs, type FlagValues} from '../../src/cli/flags.js'
import {parseArgv} from '../../src/cli/parse-argv.js'
import {FakeTerminal} from './fake-terminal.js'

/** A CommandContext that records what a command asks to print, for in-process command tests. */
export interface FakeContext {
  context: CommandContext
  /** Aborts the context's signal, as Ctrl-C does. */
  interrupt(): void
  /** log() calls: result lines (runCommand prints them to stdout unless --json). */
  logged: string[]
  /** note() calls: progress (runCommand prints them to stderr unless --json). */
  noted: string[]
  /** What the command registered with showing(): runCommand stops it before an error is printed. */
  shown: Array<{stop(): void}>
  /** What the command wrote straight to the terminal (a restart's progress view goes to stderr). */
  stderr: FakeTerminal
  stdout: FakeTerminal
}

/** A pipe unless `isTTY`; the environment without NO_COLOR or FORCE_COLOR unless given. */
export function fakeContext({
  env = {},
  isTTY = false,
  json = false,
}: {env?: NodeJS.ProcessEnv; isTTY?: boolean; json?: boolean} = {}): FakeContext {
  const controller = new AbortController()
  const stdout = new FakeTerminal({isTTY})
  const stderr = new FakeTerminal({isTTY})
  const terminal: Terminal = {env, stderr: stderr.stream, stdout: stdout.stream}
  const fake: FakeContext = {
    logged: [],
    noted: [],
    shown: [],
    stderr,
    stdout,
    interrupt: () => controller.abort(),
    context: {
      json,
      passThrough: [],
      signal: controller.signal,
      terminal,
      log: (text) => fake.logged.push(text),
      note: (text) => fake.noted.push(text),
      showing: (view) => fake.shown.push(view),
    },
  }
  return fake
}

/**
 * A command's flags from argv, with the defaults filled in, through the fast path's parser (held to
 * oclif's results by its own test): a test then reads like the command line it stands for.
 */
export function flagsOf<F extends FlagSpecs>(spec: CommandSpec<F>, argv: string[]): FlagValues<F> {
  const flags = parseArgv(argv, spec.flags)
  if (!flags) throw new Error(`the fast path's parser refuses: ${argv.join(' ')}`)
  return flags
}
