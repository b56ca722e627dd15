import {type KernelReads} from '../../src/restart/witness.js'
import {
  classifyFamily,
  type FamilyEntry,
  type FamilyMember,
  type ProcessFacts,
  type Thread,
} from '../../src/target/family.js'

/** No kernel to ask (another platform, or only a control URL): every claim goes unchecked. */
export const NO_KERNEL: KernelReads = {
  children: () => [],
  family: () => undefined,
  process: () => undefined,
  threads: () => [],
}

interface FakeProcess extends FamilyEntry {
  threads: Thread[]
  uid: number
}

/**
 * A process table the test writes: the master, its workers (forked, booted, exited, zombies) and
 * other processes, read the way src/target/family.ts reads /proc (the same classification).
 */
export class FakeKernel implements KernelReads {
  /** The time a fork happens at (epoch ms): the master and its first workers started at 0. */
  now: () => number = () => 0
  private nextTid = 900_000
  private readonly processes = new Map<number, FakeProcess>()
  private readonly startTimes = new Map<number, number>()
  private readonly threadStarts = new Map<number, number>()

  constructor(
    readonly masterPid: number,
    workers: ReadonlyArray<{index?: number; pid: number}>,
  ) {
    this.processes.set(masterPid, {
      pid: masterPid,
      ppid: 1,
      cmd: 'puma 5.6.5 (tcp://127.0.0.1:9292) [app]',
      comm: 'puma',
      zombie: false,
      uid: 1000,
      threads: this.named(['puma', 'puma srv'], masterPid),
    })
    for (const worker of workers) this.fork(worker.pid, worker.index, {booted: true})
  }

  /** Puma's server thread starts in `pid`. */
  boot(pid: number): void {
    const entry = this.processes.get(pid)!
    this.processes.set(pid, {...entry, threads: [...entry.threads, ...this.named(['puma srv'])]})
  }

  children(pid: number): number[] {
    return [...this.processes.values()].filter((entry) => entry.ppid === pid).map((entry) => entry.pid)
  }

  exit(pid: number, {zombie = false} = {}): void {
    const entry = this.processes.get(pid)
    if (zombie && entry) this.processes.set(pid, {...entry, zombie: true, cmd: '', threads: []})
    else this.processes.delete(pid)
  }

  family(masterPid: number, {serving = false} = {}): FamilyMember[] | undefined {
    const children = [...this.processes.values()].filter((entry) => entry.ppid === masterPid)
    const grandchildren = [...this.processes.values()].filter((entry) => children.some((c) => c.pid === entry.ppid))
    const entries = [...children, ...grandchildren].map((entry) => ({
      ...entry,
      threads: serving ? entry.threads : undefined,
    }))
    return classifyFamily(entries, masterPid, this.processes.get(masterPid)!.comm)
  }

  /** A worker forked (and, with `booted`, serving: Puma's `puma srv` thread runs). */
  fork(pid: number, index?: number, {booted = false, ppid = this.masterPid} = {}): void {
    this.startTimes.set(pid, this.now())
    const title =
      index === undefined
        ? `puma: cluster worker: ${this.masterPid}`
        : `puma: cluster worker ${index}: ${this.masterPid} [app]`
    this.processes.set(pid, {
      pid,
      ppid,
      cmd: title,
      comm: 'puma',
      zombie: false,
      uid: 1000,
      threads: this.named(booted ? ['puma', 'puma srv', 'puma srv tp 001'] : ['puma']),
    })
  }

  process(pid: number): ProcessFacts | undefined {
    const entry = this.processes.get(pid)
    if (!entry) return undefined
    const title = /^puma: cluster worker (?:(\d+): )?(\d+)/.exec(entry.cmd)
    return {
      pid,
      ppid: entry.ppid,
      comm: entry.comm,
      zombie: entry.zombie,
      uid: entry.uid,
      index: title?.[1] === undefined ? undefined : Number(title[1]),
      masterInTitle: title ? Number(title[2]) : undefined,
    }
  }

  /** Re-executes the master (single mode's hot restart): its old threads end, the new ones have new IDs. */
  reexec(): void {
    const master = this.processes.get(this.masterPid)!
    this.processes.set(this.masterPid, {...master, threads: this.named(['ruby'], this.masterPid)})
  }

  /** When a process started (epoch ms), as /proc tells it; undefined when there is none. */
  startedAt(pid: number): Date | undefined {
    if (this.processes.has(pid)) return new Date(this.startTimes.get(pid) ?? 0)
    const thread = this.threadStarts.get(pid) // /proc/TID/stat: a thread's own start
    return thread === undefined ? undefined : new Date(thread)
  }

  /** Another process of the machine (another user's app, say), which the master never forked. */
  stranger(pid: number, {ppid = 1, cmd = 'sleep 60', comm = 'sleep'} = {}): void {
    this.processes.set(pid, {pid, ppid, cmd, comm, zombie: false, uid: 0, threads: this.named(['sleep'])})
  }

  threads(pid: number): Thread[] {
    return this.processes.get(pid)?.threads ?? []
  }

  private named(names: string[], main?: number): Thread[] {
    const threads = names.map((name, i) => ({name, tid: i === 0 && main !== undefined ? main : this.nextTid++}))
    for (const {tid} of threads) if (tid !== main) this.threadStarts.set(tid, this.now())
    return threads
  }
}
