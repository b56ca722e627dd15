import {readdirSync, readFileSync, statSync} from 'node:fs'

import {readFamily, readStat} from './process-table.js'
import {parseWorkerTitle} from './titles.js'

/**
 * What the kernel says about a master's workers, read from /proc: the checks behind every claim a
 * log line makes about a PID (src/restart/witness.ts judges them). Linux only: elsewhere every read
 * is undefined and the claims go unchecked.
 */

export interface ProcessFacts {
  /** The kernel's name for its program (`/proc/PID/comm`): a forked worker keeps its master's. */
  comm: string
  /** A worker's index, from its title `puma: cluster worker N: MASTERPID`. */
  index?: number
  /** The master the title names, if it is a worker's title. */
  masterInTitle?: number
  pid: number
  ppid: number
  uid?: number
  zombie: boolean
}

export interface Thread {
  name: string
  tid: number
}

export interface FamilyMember {
  index?: number
  pid: number
  /** Puma's server thread (`puma srv`) runs; undefined when not read, or it names no thread `puma…` (Puma < 5). */
  serving?: boolean
  /**
   * A worker of this master: a child titled as one; under fork_worker a child of worker 0 titled as
   * another index (an app's own fork keeps its worker's title, and is not one); a zombie child
   * still named like its master (a worker killed a moment ago; a spawned helper has another name).
   */
  worker: boolean
  zombie: boolean
}

/** What classifyFamily needs of each process below the master. */
export interface FamilyEntry {
  cmd: string
  comm: string
  pid: number
  ppid: number
  threads?: readonly Thread[]
  zombie: boolean
}

/** One process, or undefined when it is gone (a zombie is still there, with `zombie` set). */
export function readProcessFacts(pid: number): ProcessFacts | undefined {
  if (process.platform !== 'linux') return undefined
  const stat = readStat(pid)
  if (!stat) return undefined
  const title = parseWorkerTitle(readCmd(pid))
  return {
    pid,
    ppid: stat.ppid,
    comm: readComm(pid),
    zombie: stat.state === 'Z',
    index: title?.index,
    masterInTitle: title?.masterPid,
    uid: ownerOf(pid),
  }
}

/** Its threads' IDs and names (Ruby names them: Puma 5+ calls its server thread `puma srv`). */
export function readThreads(pid: number): Thread[] {
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return []
  }

  return tids.map((tid) => ({tid: Number(tid), name: readText(`/proc/${pid}/task/${tid}/comm`).trim()}))
}

/**
 * The master's family as the kernel sees it now: its children and their children, zombies
 * included, each marked whether it is a worker (classifyFamily). From the children files where
 * they agree with themselves, else the whole process table; undefined when not even that can be
 * read. `serving` is read (each worker's thread names) only when asked.
 */
export function readFamilyMembers(masterPid: number, {serving = false} = {}): FamilyMember[] | undefined {
  if (process.platform !== 'linux') return undefined
  const entries = readFamily(masterPid) ?? descendantsFromTable(masterPid)
  if (!entries) return undefined
  const below = entries
    .filter((entry) => entry.pid !== masterPid)
    .map((entry): FamilyEntry => {
      const zombie = entry.zombie === true
      const titled = parseWorkerTitle(entry.cmd)?.masterPid === masterPid
      return {
        ...entry,
        zombie,
        comm: readComm(entry.pid),
        threads: serving && titled && !zombie ? readThreads(entry.pid) : undefined,
      }
    })
  return classifyFamily(below, masterPid, readComm(masterPid))
}

/** Marks which processes below a master are its workers (see FamilyMember.worker). */
export function classifyFamily(entries: readonly FamilyEntry[], masterPid: number, masterComm: string): FamilyMember[] {
  const titles = new Map(entries.map((entry) => [entry.pid, parseWorkerTitle(entry.cmd)]))
  return entries.map((entry) => {
    const title = titles.get(entry.pid)
    const parent = titles.get(entry.ppid)
    const direct = entry.ppid === masterPid
    const titled = title?.masterPid === masterPid
    const byWorkerZero = !direct && parent?.masterPid === masterPid && parent.index === 0 && title?.index !== 0
    const worker = entry.zombie ? direct && entry.comm === masterComm : titled && (direct || byWorkerZero)
    return {
      pid: entry.pid,
      zombie: entry.zombie,
      worker,
      index: worker ? title?.index : undefined,
      serving: worker && entry.threads ? servingNow(entry.threads) : undefined,
    }
  })
}

/** Ruby names its threads: a `puma srv…` one is Puma's server, started once the app is loaded. */
export function servingNow(threads: ReadonlyArray<{name: string}>): boolean | undefined {
  const named = threads.filter((thread) => thread.name.startsWith('puma'))
  return named.length === 0 ? undefined : named.some((thread) => thread.name.startsWith('puma srv'))
}

function descendantsFromTable(
  masterPid: number,
): Array<{cmd: string; pid: number; ppid: number; zombie: boolean}> | undefined {
  let names: string[]
  try {
    names = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return undefined
  }

  const parents = new Map<number, number>()
  const zombies = new Set<number>()
  for (const name of names) {
    const stat = readStat(Number(name))
    if (stat) parents.set(Number(name), stat.ppid)
    if (stat?.state === 'Z') zombies.add(Number(name))
  }

  const children = [...parents].filter(([, ppid]) => ppid === masterPid).map(([pid]) => pid)
  const grandchildren = [...parents].filter(([, ppid]) => children.includes(ppid)).map(([pid]) => pid)
  return [...children, ...grandchildren].map((pid) => ({
    pid,
    ppid: parents.get(pid)!,
    cmd: readCmd(pid),
    zombie: zombies.has(pid),
  }))
}

function readCmd(pid: number): string {
  return readText(`/proc/${pid}/cmdline`).replaceAll('\0', ' ')
}

function readComm(pid: number): string {
  return readText(`/proc/${pid}/comm`).trim()
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
