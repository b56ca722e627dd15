/**
 * Puma's process titles (docs/puma-facts.md §6), as data. Masters 2.8+ set `puma X.Y.Z (binds) [tag]`;
 * 2.0–2.7 masters set none and keep `ruby …/bin/puma …`. Workers are titled
 * `puma: cluster worker I: MASTERPID [tag]`, or `puma: cluster worker: MASTERPID` before 2.8.
 */
export const TITLE_PATTERNS = {
  master: /^puma (\d+\.\d+\.\d+\S*) \(([^)]*)\)(?: \[(.*)\])?$/,
  worker: /^puma: cluster worker (\d+): (\d+)(?: \[(.*)\])?$/,
  untitledWorker: /^puma: cluster worker: (\d+)(?: \[(.*)\])?$/,
} as const

export interface MasterTitle {
  binds: string[]
  tag?: string
  version: string
}

export interface WorkerTitle {
  index?: number
  masterPid: number
  tag?: string
}

export function parseMasterTitle(cmd: string): MasterTitle | undefined {
  const match = TITLE_PATTERNS.master.exec(cmd.trim())
  if (!match) return undefined
  return {version: match[1], binds: match[2] ? match[2].split(',') : [], tag: match[3] || undefined}
}

export function parseWorkerTitle(cmd: string): undefined | WorkerTitle {
  const trimmed = cmd.trim()
  const titled = TITLE_PATTERNS.worker.exec(trimmed)
  if (titled) return {index: Number(titled[1]), masterPid: Number(titled[2]), tag: titled[3] || undefined}
  const untitled = TITLE_PATTERNS.untitledWorker.exec(trimmed)
  if (untitled) return {index: undefined, masterPid: Number(untitled[1]), tag: untitled[2] || undefined}
  return undefined
}

/**
 * A master that set no title (Puma 2.0–2.7, or `puma-wild` during prune_bundler's re-exec):
 * an interpreter or the puma executable itself, whose program (argv[0] or the script after a
 * ruby interpreter) is named puma or puma-wild. An argument that merely mentions puma does not count.
 */
export function isUntitledPumaCommand(argv: string[]): boolean {
  if (argv.length === 0) return false
  const program = basename(argv[0])
  if (program === 'puma' || program === 'puma-wild') return true
  if (!/^(ruby|jruby|truffleruby)[\d.]*$/.test(program)) return false
  return ['puma', 'puma-wild'].includes(basename(rubyScript(argv.slice(1)) ?? ''))
}

/** Ruby options that take their value as the next argument. */
const RUBY_OPTIONS_WITH_VALUE = new Set(['-C', '-E', '-e', '-I', '-r'])

function rubyScript(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (RUBY_OPTIONS_WITH_VALUE.has(args[i])) i++
    else if (!args[i].startsWith('-')) return args[i]
  }

  return undefined
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}
