import {type KernelReads} from '../../src/restart/witness.js'
import {type FamilyMember, type ProcessFacts, servingNow} from '../../src/target/family.js'

/** No kernel to ask (another platform, or only a control URL): every claim goes unchecked. */
export const NO_KERNEL: KernelReads = {family: () => undefined, lastPid: () => undefined, process: () => undefined}

/**
 * A process table the test writes: the master, its workers (forked, booted, exited, zombies) and
 * the last PID handed out, as src/target/family.ts would read them from /proc.
 */
export class FakeKernel implements KernelReads {
  last = 0
  private nextTid = 900_000
  private readonly processes = new Map<number, ProcessFacts>()

  constructor(
    readonly masterPid: number,
    workers: ReadonlyArray<{index?: number; pid: number}>,
  ) {
    this.processes.set(masterPid, {
      pid: masterPid,
      ppid: 1,
      startTicks: 1,
      zombie: false,
      uid: 1000,
      threads: this.threads(['puma'], masterPid),
    })
    for (const worker of workers) this.fork(worker.pid, worker.index, {booted: true})
  }

  boot(pid: number): void {
    const facts = this.processes.get(pid)!
    this.processes.set(pid, {...facts, threads: [...facts.threads, ...this.threads(['puma srv'])]})
  }

  exit(pid: number, {zombie = false} = {}): void {
    const facts = this.processes.get(pid)
    if (zombie && facts) this.processes.set(pid, {...facts, zombie: true, threads: []})
    else this.processes.delete(pid)
  }

  family(masterPid: number): FamilyMember[] | undefined {
    return [...this.processes.values()]
      .filter((facts) => facts.ppid === masterPid)
      .map((facts) => ({
        pid: facts.pid,
        ppid: facts.ppid,
        zombie: facts.zombie,
        worker: !facts.zombie,
        index: facts.zombie ? undefined : facts.index,
        serving: facts.zombie ? undefined : servingNow(facts.threads),
      }))
  }

  /** A worker forked (and, with `booted`, serving: Puma's `puma srv` thread runs). */
  fork(pid: number, index?: number, {booted = false, ppid = this.masterPid} = {}): void {
    this.last = Math.max(this.last, pid)
    const names = booted ? ['puma', 'puma srv', 'puma srv tp 001'] : ['puma']
    this.processes.set(pid, {
      pid,
      ppid,
      startTicks: 2,
      zombie: false,
      uid: 1000,
      index,
      masterInTitle: this.masterPid,
      threads: this.threads(names, pid),
    })
  }

  lastPid(): number | undefined {
    return this.last
  }

  process(pid: number): ProcessFacts | undefined {
    return this.processes.get(pid)
  }

  /** Another process of the machine (another user's app, say), which the master never forked. */
  stranger(pid: number): void {
    this.last = Math.max(this.last, pid)
    this.processes.set(pid, {pid, ppid: 1, startTicks: 3, zombie: false, uid: 0, threads: this.threads(['puma srv'])})
  }

  private threads(names: string[], main?: number): Array<{name: string; tid: number}> {
    return names.map((name, i) => ({name, tid: i === 0 && main !== undefined ? main : this.nextTid++}))
  }
}
