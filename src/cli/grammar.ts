import {type CtlError, usageError} from '../errors.js'

/**
 * pumactl's grammar on top of ctl's: options before the command (`pumactl -S tmp/pids/puma.state
 * phased-restart`), pumactl's command names, `-h`/`-H`, `-V` and `help [COMMAND]`. What comes out is
 * ctl's own form, `COMMAND [OPTIONS]`, for the fast path and oclif alike.
 */

/** pumactl's names that ctl spells otherwise. */
export const COMMAND_ALIASES: Readonly<Record<string, string>> = {'reopen-log': 'reopen-logs'}

/**
 * Options that take a value in pumactl's or ctl's grammar: their value is never the command. Listed
 * here rather than read from the commands' flags, which the fast path loads only for the one command
 * it runs; a test holds the list to every command's flags.
 */
export const VALUE_OPTIONS = new Set([
  '--check-command',
  '--check-timeout',
  '--config-file',
  '--control-token',
  '--control-url',
  '--dir',
  '--environment',
  '--expect-dir',
  '--health-timeout',
  '--health-url',
  '--journal',
  '--log',
  '--pid',
  '--pidfile',
  '--puma',
  '--since',
  '--soak',
  '--stall-timeout',
  '--state',
  '--tag',
  '--timeout',
  '--via',
  '-C',
  '-e',
  '-F',
  '-P',
  '-p',
  '-S',
  '-T',
])

const HELP = new Set(['--help', '-H', '-h'])

/** pumactl's short options that ctl spells otherwise. */
const RENAMED_OPTIONS: Readonly<Record<string, string>> = {'-H': '--help', '-h': '--help', '-Q': '--quiet'}

export type Invocation = {argv: string[]; kind: 'run'} | {error: CtlError; json: boolean; kind: 'refused'}

/**
 * ctl's argv from what a user or a pumactl script typed. `commands` are ctl's command ids. No
 * command at all is left as is (oclif's overview, `--version`); a word that is no command is refused
 * here, with the nearest command, so that it gets ctl's one-line error (or JSON under --json).
 */
export function normalizeArgv(argv: readonly string[], commands: readonly string[]): Invocation {
  const json = argv.includes('--json')
  const known = (word: string) => commands.includes(COMMAND_ALIASES[word] ?? word)
  if (argv[0] === 'help') return helpFor(argv.slice(1), {commands, json, known})
  if (argv.length === 1 && HELP.has(argv[0])) return {kind: 'run', argv: ['--help']}
  if (argv.length === 1 && argv[0] === '-V') return {kind: 'run', argv: ['--version']}

  const at = commandIndex(argv)
  if (at === undefined) return withoutCommand(argv, json)
  const word = argv[at]
  if (!known(word)) return {kind: 'refused', json, error: unknownCommand(word, commands)}
  // What comes after `--` is passed on as typed (ctl start -- -h would otherwise become --help).
  const end = argv.indexOf('--', at + 1)
  const ours = end === -1 ? argv.slice(at + 1) : argv.slice(at + 1, end)
  const passed = end === -1 ? [] : argv.slice(end)
  const options = [...argv.slice(0, at), ...ours].map((arg) => RENAMED_OPTIONS[arg] ?? arg)
  return {kind: 'run', argv: [COMMAND_ALIASES[word] ?? word, ...options, ...passed]}
}

/** Where the command word is: the first argument that is neither an option nor an option's value. */
function commandIndex(argv: readonly string[]): number | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') return argv[i + 1] === undefined ? undefined : i + 1
    if (!arg.startsWith('-') || arg === '-') return i
    if (VALUE_OPTIONS.has(arg)) i++
  }

  return undefined
}

/**
 * Options and no command. Nothing at all, or --version, is oclif's (its overview, the version); a
 * help or -V among other options is that; anything else (`ctl -S`, `ctl --json`) would reach oclif
 * as a command named `-S`, refused outside ctl's one-line format.
 */
function withoutCommand(argv: readonly string[], json: boolean): Invocation {
  if (argv.length === 0 || (argv.length === 1 && argv[0] === '--version')) return {kind: 'run', argv: [...argv]}
  if (argv.some((arg) => HELP.has(arg))) return {kind: 'run', argv: ['--help']}
  if (argv.includes('-V') || argv.includes('--version')) return {kind: 'run', argv: ['--version']}
  return {
    kind: 'refused',
    json,
    error: usageError('no command given', {suggestion: 'ctl help lists the commands, e.g. ctl -S FILE status'}),
  }
}

function helpFor(
  rest: readonly string[],
  {commands, json, known}: {commands: readonly string[]; json: boolean; known: (word: string) => boolean},
): Invocation {
  const [word] = rest
  if (word === undefined || word.startsWith('-')) return {kind: 'run', argv: ['--help']}
  if (!known(word)) return {kind: 'refused', json, error: unknownCommand(word, commands)}
  return {kind: 'run', argv: [COMMAND_ALIASES[word] ?? word, '--help']}
}

export function unknownCommand(word: string, commands: readonly string[]): CtlError {
  const near = nearest(word, [...commands, ...Object.keys(COMMAND_ALIASES)]).map(
    (name) => COMMAND_ALIASES[name] ?? name,
  )
  const shown = JSON.stringify(word.length > 40 ? `${word.slice(0, 40)}…` : word)
  const guess = near.length > 0 ? `: did you mean ${[...new Set(near)].join(' or ')}?` : ''
  return usageError(`${shown} is not a ctl command${guess}`, {
    suggestion: 'ctl help lists the commands; pumactl scripts work unchanged (options before or after the command)',
  })
}

/** The commands a typo most likely meant (all at the least distance): at most a third of its letters wrong. */
function nearest(word: string, candidates: readonly string[]): string[] {
  const limit = Math.max(1, Math.floor(word.length / 3))
  const distances = candidates.map((candidate) => ({candidate, distance: editDistance(word, candidate)}))
  const least = Math.min(...distances.map(({distance}) => distance))
  return least > limit ? [] : distances.filter(({distance}) => distance === least).map(({candidate}) => candidate)
}

/** Levenshtein's distance, with a swap of two neighbours counting as one edit ("restrat"). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({length: a.length + 1}, (_, i) => [i, ...Array.from({length: b.length}, () => 0)])
  for (let j = 1; j <= b.length; j++) rows[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1)
    }
  }

  return rows[a.length][b.length]
}
