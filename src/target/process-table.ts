import {readFile, readdir, readlink, stat} from 'node:fs/promises'

export interface ProcessEntry {
  pid: number
  ppid: number
  /** The command line as one string (NUL separators become spaces); Puma's titles live here. */
  cmd: string
  /** argv, for the untitled-master check. */
  argv: string[]
}

/**
 * The process table. On Linux it is read from /proc directly: ps-list would spawn `ps`, which
 * costs 12–18 ms on every `ctl status`; elsewhere ps-list is the portable source.
 */
export async function listProcesses(): Promise<ProcessEntry[]> {
  if (process.platform !== 'linux') return listWithPsList()
  const names = await readdir('/proc')
  const entries = await Promise.all(names.filter((name) => /^\d+$/.test(name)).map((name) => readEntry(Number(name))))
  return entries.filter((entry): entry is ProcessEntry => entry !== undefined)
}

async function listWithPsList(): Promise<ProcessEntry[]> {
  const {default: psList} = await import('ps-list')
  return (await psList()).map(({pid, ppid, cmd = ''}) => ({pid, ppid, cmd, argv: cmd.split(' ')}))
}

async function readEntry(pid: number): Promise<ProcessEntry | undefined> {
  try {
    const [cmdline, statText] = await Promise.all([readFile(`/proc/${pid}/cmdline`), readFile(`/proc/${pid}/stat`, 'utf8')])
    const argv = splitCmdline(cmdline)
    return {pid, ppid: parseStat(statText).ppid, cmd: argv.join(' '), argv}
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
  state: string
  ppid: number
  /** Clock ticks since boot at which the process started. */
  startTicks: number
  /** User + system CPU time, in clock ticks. */
  cpuTicks: number
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
  pid: number
  state: string
  startedAt: Date
  cpuSeconds: number
  rssBytes: number
  cwd?: string
  /** Where fd 1 and 2 point, e.g. `/srv/app/log/puma.log`, `pipe:[1234]`, `socket:[99]`. */
  stdout?: string
  stderr?: string
}

const CLOCK_TICKS = 100 // USER_HZ: 100 on every Linux architecture Node supports

let bootTimeMs: number | undefined

async function systemBootTime(): Promise<number> {
  if (bootTimeMs === undefined) {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n').find((l) => l.startsWith('btime '))
    bootTimeMs = Number(line?.split(' ')[1]) * 1000
  }

  return bootTimeMs
}

export async function readProcessDetails(pid: number): Promise<ProcessDetails | undefined> {
  let stat: StatFields
  try {
    stat = parseStat(await readFile(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return undefined
  }

  const [boot, status, cwd, stdout, stderr] = await Promise.all([
    systemBootTime(),
    readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''),
    readLinkOrUndefined(`/proc/${pid}/cwd`),
    readLinkOrUndefined(`/proc/${pid}/fd/1`),
    readLinkOrUndefined(`/proc/${pid}/fd/2`),
  ])
  return {
    pid,
    state: stat.state,
    startedAt: new Date(boot + (stat.startTicks * 1000) / CLOCK_TICKS),
    cpuSeconds: stat.cpuTicks / CLOCK_TICKS,
    rssBytes: Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024,
    cwd,
    stdout,
    stderr,
  }
}

async function readLinkOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readlink(path)
  } catch {
    return undefined // another user's process, or gone
  }
}

/** Whether a path from /proc/PID/fd/N is a regular file (a log), not a pipe, socket, tty or /dev/null. */
export async function isRegularFile(path: string | undefined): Promise<boolean> {
  if (!path?.startsWith('/')) return false
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
