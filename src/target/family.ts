import {readdirSync, readFileSync, statSync} from 'node:fs'

import {readFamily, readStat} from './process-table.js'
import {parseWorkerTitle} from './titles.js'

/**
 * What the kernel says about a master's workers, read from /proc: the checks behind every claim a
 * log line makes about a PID (src/restart/witness.ts judges them). Linux only: elsewhere every read
 * is undefined and the claims go unchecked.
 */

export interface ProcessFacts {
  /** A worker's index, from its title `puma: cluster worker N: MASTERPID`, when the title names `masterPid`. */
  index?: number
  /** The master the title names, if it is a worker's title. */
  masterInTitle?: number
  pid: number
  ppid: number
  startTicks: number
  /** Its threads' IDs and names (Ruby names them: Puma 5+ calls its server thread `puma srv`). */
  threads: Array<{name: string; tid: number}>
  uid?: number
  zombie: boolean
}

export interface FamilyMember {
  index?: number
  pid: number
  ppid: number
  /** Puma's server thread (`puma srv`) runs; undefined when it names no thread `puma…` (Puma < 5). */
  serving?: boolean
  /** Titled as a worker of this master (a zombie has lost its title). */
  worker: boolean
  zombie: boolean
}

/** One process, or undefined when it is gone (a zombie is still there, with `zombie` set). */
export function readProcessFacts(pid: number): ProcessFacts | undefined {
  if (process.platform !== 'linux') return undefined
  const stat = readStat(pid)
  if (!stat) return undefined
  const title = parseWorkerTitle(readText(`/proc/${pid}/cmdline`).replaceAll('\0', ' '))
  return {
    pid,
    ppid: stat.ppid,
    startTicks: stat.startTicks,
    zombie: stat.state === 'Z',
    index: title?.index,
    masterInTitle: title?.masterPid,
    threads: threadsOf(pid),
    uid: ownerOf(pid),
  }
}

/**
 * The master's workers as the kernel sees them now: its children and their children (fork_worker),
 * zombies included and marked. From the children files where they agree with themselves, else the
 * whole process table; undefined when not even that can be read.
 */
export function readFamilyMembers(masterPid: number): FamilyMember[] | undefined {
  if (process.platform !== 'linux') return undefined
  const entries = readFamily(masterPid) ?? descendantsFromTable(masterPid)
  if (!entries) return undefined
  return entries
    .filter((entry) => entry.pid !== masterPid)
    .map((entry) => {
      const stat = readStat(entry.pid)
      const title = parseWorkerTitle(entry.cmd)
      const worker = title?.masterPid === masterPid
      return {
        pid: entry.pid,
        ppid: entry.ppid,
        worker,
        zombie: !stat || stat.state === 'Z',
        index: worker ? title.index : undefined,
      }
    })
}

/** The PID the kernel handed out last (the last field of /proc/loadavg): a PID forked since a moment lies between two readings. */
export function lastAllocatedPid(): number | undefined {
  if (process.platform !== 'linux') return undefined
  const last = /(\d+)\s*$/.exec(readText('/proc/loadavg'))
  return last ? Number(last[1]) : undefined
}

function descendantsFromTable(masterPid: number): Array<{cmd: string; pid: number; ppid: number}> | undefined {
  let names: string[]
  try {
    names = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return undefined
  }

  const parents = new Map<number, number>()
  for (const name of names) {
    const stat = readStat(Number(name))
    if (stat) parents.set(Number(name), stat.ppid)
  }

  const children = [...parents].filter(([, ppid]) => ppid === masterPid).map(([pid]) => pid)
  const grandchildren = [...parents].filter(([, ppid]) => children.includes(ppid)).map(([pid]) => pid)
  return [...children, ...grandchildren].map((pid) => ({
    pid,
    ppid: parents.get(pid)!,
    cmd: readText(`/proc/${pid}/cmdline`).replaceAll('\0', ' '),
  }))
}

/** Ruby names its threads: a `puma srv…` one is Puma's server, started once the app is loaded. */
export function servingNow(threads: ReadonlyArray<{name: string}>): boolean | undefined {
  const named = threads.filter((thread) => thread.name.startsWith('puma'))
  return named.length === 0 ? undefined : named.some((thread) => thread.name.startsWith('puma srv'))
}

function threadsOf(pid: number): Array<{name: string; tid: number}> {
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return []
  }

  return tids.map((tid) => ({tid: Number(tid), name: readText(`/proc/${pid}/task/${tid}/comm`).trim()}))
}

function ownerOf(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}`).uid
  } catch {
    return undefined
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}
