import {Command, Flags} from '@oclif/core'

import {CtlError, EXIT, type ExitCode} from './errors.js'
import {paintFor} from './render/colour.js'
import {DEFAULT_TARGET_FILES} from './target/find.js'

const TARGET_FLAGS = ['pid', 'pidfile', 'state', 'dir', 'tag']
const exclusiveOf = (name: string, ...alsoAllowed: string[]) => TARGET_FLAGS.filter((flag) => flag !== name && !alsoAllowed.includes(flag))

/** Puma's control server (activate_control_app), which the state file also records. */
export const controlFlags = {
  'control-url': Flags.string({char: 'C', summary: "Puma's control server: tcp://HOST:PORT or unix:///PATH.", helpGroup: 'TARGET'}),
  'control-token': Flags.string({
    char: 'T',
    summary: "The control server's auth token (never printed). Prefer the environment variable: other users can read a command line.",
    helpGroup: 'TARGET',
    env: 'PUMA_CTL_CONTROL_TOKEN',
    dependsOn: ['control-url'],
  }),
}

/** How every command names its Puma master. */
export const targetFlags = {
  pid: Flags.string({char: 'p', summary: 'PID of the Puma master.', helpGroup: 'TARGET', exclusive: exclusiveOf('pid')}),
  pidfile: Flags.string({char: 'P', summary: 'Puma pidfile.', helpGroup: 'TARGET', exclusive: exclusiveOf('pidfile')}),
  state: Flags.string({char: 'S', summary: "Puma's state file (state_path).", helpGroup: 'TARGET', exclusive: exclusiveOf('state')}),
  dir: Flags.string({summary: "Scan for the master whose working folder is DIR (the app's folder).", helpGroup: 'TARGET', exclusive: exclusiveOf('dir', 'tag')}),
  tag: Flags.string({summary: 'Scan for the master with this Puma tag (the [tag] in its title).', helpGroup: 'TARGET', exclusive: exclusiveOf('tag', 'dir')}),
}

/** --via for the commands both a signal and the control server can carry. */
export const viaFlag = {
  via: Flags.option({
    summary: 'Send by signal or through Puma\'s control server (default: signal, or control when only --control-url is given).',
    options: ['signal', 'control'] as const,
  })(),
}

export const TARGET_HELP = `Finding the master: --pid, --pidfile or --state; otherwise the first of ${DEFAULT_TARGET_FILES.join(', ')} under the current folder; otherwise a scan of the process table for Puma masters (narrowed by --dir and --tag). Before anything is sent, the PID must be alive and a Puma master.`

/** Shared by every command: --json, the target flags, and the one place errors become exit codes. */
export abstract class BaseCommand extends Command {
  static enableJsonFlag = true

  /** Lets a long wait end cleanly on Ctrl-C; commands pass it down to whatever waits. */
  protected readonly interrupt = new AbortController()

  /** A live progress display (spinner), stopped before anything else is printed at the end. */
  protected view?: {stop(): void}

  private readonly onSignal = () => this.interrupt.abort()

  async init(): Promise<void> {
    await super.init()
    process.once('SIGINT', this.onSignal)
    process.once('SIGTERM', this.onSignal)
  }

  async finally(error: Error | undefined): Promise<void> {
    this.view?.stop()
    process.off('SIGINT', this.onSignal)
    process.off('SIGTERM', this.onSignal)
    await super.finally(error)
  }

  /** Progress and notes go to stderr, so stdout stays for results (and --json). */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`)
  }

  async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<never> {
    if (error.code === 'EEXIT') throw error // this.exit() inside run(): already decided
    this.view?.stop()
    const exitCode = exitCodeOf(error)
    if (this.jsonEnabled()) {
      this.logJson({error: errorJson(error, exitCode)})
    } else {
      const paint = await paintFor(process.stderr)
      const lines = [paint.red(`Error: ${firstLine(error.message)}`)]
      if (error instanceof CtlError) lines.push(...error.details)
      const suggestion = error instanceof CtlError ? error.suggestion : isParseError(error) ? `see ctl ${this.id ?? ''} --help`.replace('  ', ' ') : undefined
      if (suggestion) lines.push(paint.dim(`Hint: ${suggestion}`))
      if (process.env.DEBUG && error.stack) lines.push(error.stack)
      process.stderr.write(`${lines.join('\n')}\n`)
    }

    this.exit(exitCode)
    throw error // unreachable: exit() throws; keeps the type honest
  }
}

function exitCodeOf(error: Error & {oclif?: {exit?: number}}): ExitCode {
  if (error instanceof CtlError) return error.exitCode
  if (isParseError(error)) return EXIT.usage
  return EXIT.unexpected
}

/** oclif's flag and argument errors carry the parse input. */
function isParseError(error: Error & {parse?: unknown}): boolean {
  return error.parse !== undefined || /^(Unexpected argument|Nonexistent flag|Expected|Missing|--\S+ cannot also be provided|Parsing --)/.test(error.message)
}

/** One line from any error: oclif's parse errors come as several, around boilerplate. */
function firstLine(message: string): string {
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^The following errors? occurred:$/.test(line) && !line.startsWith('See more help with'))
  if (lines.length === 0) return 'unknown error'
  return /^Parsing --\S+$/.test(lines[0]) && lines[1] ? `${lines[0]}: ${lines[1]}` : lines[0]
}

function errorJson(error: Error, exitCode: ExitCode): Record<string, unknown> {
  const base = {message: firstLine(error.message), exitCode}
  if (!(error instanceof CtlError)) return base
  return {...base, suggestion: error.suggestion, details: error.details.length > 0 ? error.details : undefined, ...error.data}
}
