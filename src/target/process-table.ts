import {existsSync, readdirSync, readFileSync, readlinkSync, statSync} from 'node:fs'

export interface ProcessEntry {
  /** argv, for the untitled-master check. */
  argv: string[]
  /** The command line as one string (NUL separators become spaces); Puma's titles live here. */
  cmd: string
  pid: number
  ppid: number
  /** Set where /proc was read: dead, not yet reaped by its parent. */
  zombie?: boolean
}

/**
 * The process table. On Linux it is read from /proc directly, synchronously: ps-list would spawn
 * `ps` (12–18 ms on every `ctl status`), and async reads of a few hundred tiny /proc files cost
 * 3–4 times more than sync ones (8–11 ms against 2.4 ms here). Elsewhere ps-list is the portable source.
 */
export async function listProcesses(): Promise<ProcessEntry[]> {
  if (process.platform !== 'linux') return listWithPsList()
  const entries: ProcessEntry[] = []
  for (const name of readdirSync('/proc')) {
    const entry = /^\d+$/.test(name) ? readEntry(Number(name)) : undefined
    if (entry) entries.push(entry)
  }

  return entries
}

/**
 * A process, its children and theirs, from the kernel's /proc/PID/task/TID/children files: about
 * one read per thread of each member, where the whole table costs milliseconds per hundred
 * processes. Read twice: the kernel can skip a living child while a sibling is being reaped (a
 * phased restart), so two reads that differ mean "use the whole table". Undefined then, where
 * there are no children files, and for a PID that is not a readable process (gone, hidden, or one
 * of a process's threads).
 */
export function readFamily(pid: number, generations = 2): ProcessEntry[] | undefined {
  if (process.platform !== 'linux' || !existsSync('/proc/thread-self/children') || threadGroupOf(pid) !== pid)
    return undefined
  const first = readDescendants(pid, generations)
  const second = readDescendants(pid, generations)
  const pids = (family: ProcessEntry[]) => family.map((entry) => entry.pid).join(' ')
  return first.length > 0 && pids(first) === pids(second) ? second : undefined
}

function readDescendants(pid: number, generations: number): ProcessEntry[] {
  const family: ProcessEntry[] = []
  let current = [pid]
  for (let generation = 0; current.length > 0; generation++) {
    const entries = current.map((member) => readEntry(member)).filter((entry) => entry !== undefined)
    family.push(...entries)
    current = generation < generations ? entries.flatMap((entry) => childrenOf(entry.pid)) : []
  }

  return family
}

/** The process a PID belongs to: itself for a process, another for one of its threads (which opens /proc/TID too). */
export function threadGroupOf(pid: number): number | undefined {
  try {
    const tgid = /^Tgid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return tgid ? Number(tgid[1]) : undefined
  } catch {
    return undefined
  }
}

/** A process's children, from the kernel's children files of each of its threads: a few small reads. */
export function childrenOf(pid: number): number[] {
  let threads: string[]
  try {
    threads = readdirSync(`/proc/${pid}/task`)
  } catch {
    return [] // exited meanwhile
  }

  return threads.flatMap((tid) => {
    try {
      return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number)
    } catch {
      return [] // this thread ended meanwhile; the others' children still count
    }
  })
}

async function listWithPsList(): Promise<ProcessEntry[]> {
  const {default: psList} = await import('ps-list')
  return (await psList()).map(({pid, ppid, cmd = ''}) => ({pid, ppid, cmd, argv: cmd.split(' ')}))
}

function readEntry(pid: number): ProcessEntry | undefined {
  try {
    const argv = splitCmdline(readFileSync(`/proc/${pid}/cmdline`))
    const stat = readStat(pid)
    return stat && {pid, ppid: stat.ppid, cmd: argv.join(' '), argv, zombie: stat.state === 'Z'}
  } catch {
    return undefined // gone between readdir and read, or a kernel thread we may not read
  }
}

/** /proc/PID/cmdline: NUL-separated, and padded with NULs after Puma rewrites its title. */
function splitCmdline(raw: Buffer): string[] {
  const parts = raw.toString('utf8').split('\0')
  while (parts.length > 0 && parts.at(-1) === '') parts.pop()
  return parts
}

export interface StatFields {
  /** User + system CPU time, in clock ticks. */
  cpuTicks: number
  ppid: number
  /** Clock ticks since boot at which the process started. */
  startTicks: number
  state: string
}

/** /proc/PID/stat, parsed; undefined when the process is gone (or not readable). */
export function readStat(pid: number): StatFields | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return undefined
  }
}

/** /proc/PID/stat; the command name in parentheses may itself contain spaces and parentheses. */
export function parseStat(text: string): StatFields {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state) of proc(5)
  return {
    state: fields[0],
    ppid: Number(fields[1]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    startTicks: Number(fields[19]),
  }
}

/** What /proc tells about one process beyond the table: for status, --dir and the log's location. */
export interface ProcessDetails {
  cpuSeconds: number
  cwd?: string
  pid: number
  rssBytes: number
  startedAt: Date
  stderr?: string
  /** Where fd 1 and 2 point, e.g. `/srv/app/log/puma.log`, `pipe:[1234]`, `socket:[99]`. */
  stdout?: string
}

const CLOCK_TICKS = 100 // USER_HZ: 100 on every Linux architecture Node supports

let bootTimeMs: number | undefined

function systemBootTime(): number {
  if (bootTimeMs === undefined) {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('btime '))
    bootTimeMs = Number(line?.split(' ')[1]) * 1000
  }

  return bootTimeMs
}

/** Reads /proc synchronously, for the reason given at listProcesses. */
export function readProcessDetails(pid: number): ProcessDetails | undefined {
  const stat = readStat(pid)
  if (!stat) return undefined

  let status = ''
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {}

  return {
    pid,
    startedAt: startedAtOf(stat.startTicks),
    cpuSeconds: stat.cpuTicks / CLOCK_TICKS,
    rssBytes: Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024,
    cwd: readCwd(pid),
    stdout: readLinkOrUndefined(`/proc/${pid}/fd/1`),
    stderr: readLinkOrUndefined(`/proc/${pid}/fd/2`),
  }
}

/** When a process started, from its start time in clock ticks since boot (/proc/PID/stat). */
export function startedAtOf(startTicks: number): Date {
  return new Date(systemBootTime() + (startTicks * 1000) / CLOCK_TICKS)
}

/** The process's working folder; undefined for another user's process, or one that is gone. */
export function readCwd(pid: number): string | undefined {
  return readLinkOrUndefined(`/proc/${pid}/cwd`)
}

function readLinkOrUndefined(path: string): string | undefined {
  try {
    return readlinkSync(path)
  } catch {
    return undefined // another user's process, or gone
  }
}

/** A process's environment variables, from /proc/PID/environ; undefined when unreadable (another user's process, or gone). */
export function readEnvironment(pid: number): Record<string, string> | undefined {
  try {
    const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
    return Object.fromEntries(
      entries
        .filter((entry) => entry.includes('='))
        .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    )
  } catch {
    return undefined
  }
}

/** Whether a path from /proc/PID/fd/N is a regular file (a log), not a pipe, socket, tty or /dev/null. */
export function isRegularFile(path: string | undefined): boolean {
  if (!path?.startsWith('/')) return false
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}
