import {type FamilyMember, type ProcessFacts, servingNow, type Thread} from '../target/family.js'

/**
 * The kernel as a witness to what the log claims. A log line is text anyone can write (an app
 * prints what an HTTP client sends); the PIDs it names are facts the kernel keeps. So a "booted"
 * worker counts only if its PID is a live worker of the master that did not exist at the signal,
 * and before the restart is called done it must run Puma's server thread (Ruby names a thread
 * from inside it, a moment after Puma logs the boot); a failing or timed-out worker counts only if
 * the kernel showed it as a new worker of the master: when its line is read, or at one of the
 * looks the wait takes at the master's children while it waits (a failing worker may be gone by the
 * time its lines are read; any other PID that is gone proves nothing).
 */

/** The kernel reads a restart needs (src/target/family.ts), injected through RestartDeps. */
export interface KernelReads {
  /** The PIDs of a process's children: the cheap look the wait takes while it waits. */
  children(pid: number): number[]
  family(masterPid: number, options?: {serving?: boolean}): FamilyMember[] | undefined
  process(pid: number): ProcessFacts | undefined
  /** When a process started (clock ticks since boot): a resume token tells a reused PID by it. Absent: not known. */
  startTicks?(pid: number): number | undefined
  threads(pid: number): Thread[]
}

/** What the kernel showed just before the signal. */
export interface BeforeSignal {
  /** The master's family then, zombies included (a worker killed a moment before the signal is one). */
  family: FamilyMember[]
  masterPid: number
  /** The master's threads then: a server thread not among them started since (single mode's re-exec). */
  masterTids: number[]
  masterUid?: number
  /** Puma names its threads (5.0+): a master without a `puma srv` thread does not serve yet. */
  namesThreads: boolean
}

/**
 * How a PID stands: `master`; a live worker of the master, `new` since the signal or `old`; gone
 * (or a zombie) and seen as a new worker since the signal (`gone-new`) or in the family before it
 * (`gone-old`); or a `stranger`: anything else, which no line of Puma's can name.
 */
export type Standing = 'gone-new' | 'gone-old' | 'master' | 'new' | 'old' | 'stranger'

export interface PidWitness {
  /** Its title's worker index, when the title names this master. */
  index?: number
  /** The master only (single mode): a `puma srv` thread started since the signal. Undefined: Puma names no threads (< 5). */
  serving?: boolean
  standing: Standing
}

export function readBeforeSignal(masterPid: number, kernel: KernelReads): BeforeSignal | undefined {
  const master = kernel.process(masterPid)
  const family = kernel.family(masterPid)
  if (!master || !family) return undefined
  const threads = kernel.threads(masterPid)
  return {
    masterPid,
    family,
    masterTids: threads.map((thread) => thread.tid),
    masterUid: master.uid,
    namesThreads: threads.some((thread) => thread.name.startsWith('puma')),
  }
}

/** The kernel's word on PIDs, with what it has shown since the signal: the workers the master forked. */
export class KernelWitness {
  private readonly seen: Set<number>

  /** `seen`: workers already known to be new since the signal (`ctl wait`: those its replayed log named, gone by then). */
  constructor(
    readonly before: BeforeSignal,
    private readonly kernel: KernelReads,
    seen: Iterable<number> = [],
  ) {
    this.seen = new Set(seen)
  }

  /** The master's family now, with each worker's thread names: what "done" is checked against. */
  family(): FamilyMember[] | undefined {
    return this.kernel.family(this.before.masterPid, {serving: true})
  }

  /**
   * Notes the master's children born since the signal: a failing worker may be gone before its
   * lines are read, and then this look is what showed it (one read per thread of the master).
   */
  look(): void {
    const old = new Set(this.before.family.map((member) => member.pid))
    for (const pid of this.kernel.children(this.before.masterPid)) if (!old.has(pid)) this.seen.add(pid)
  }

  /**
   * A server thread the master did not have at the signal: it re-executed and serves again.
   * Undefined when Puma names no threads (< 5) and the kernel cannot tell.
   */
  masterServesAnew(): boolean | undefined {
    const old = new Set(this.before.masterTids)
    const threads = this.kernel
      .threads(this.before.masterPid)
      .filter((t) => !old.has(t.tid) || !t.name.startsWith('puma srv'))
    const serving = servingNow(threads)
    return this.before.namesThreads ? serving === true : serving
  }

  of(pid: number): PidWitness {
    const {before, kernel} = this
    if (pid === before.masterPid) return {standing: 'master', serving: this.masterServesAnew()}
    const facts = kernel.process(pid)
    const index = facts?.masterInTitle === before.masterPid ? facts.index : undefined
    const wasThere = before.family.some((member) => member.pid === pid)
    if (facts && !facts.zombie) {
      if (!this.inFamily(facts)) return {standing: 'stranger'}
      if (!wasThere) this.seen.add(pid)
      return {standing: wasThere ? 'old' : 'new', index}
    }

    if (wasThere) return {standing: 'gone-old', index}
    return {standing: this.seen.has(pid) ? 'gone-new' : 'stranger', index}
  }

  /**
   * The master's child; under fork_worker, worker 0's child; or an orphan of it (re-parented when
   * its first parent died) whose title names the master and whose owner is the master's.
   */
  private inFamily(facts: ProcessFacts): boolean {
    const {masterPid, masterUid} = this.before
    if (facts.ppid === masterPid) return true
    const parent = this.kernel.process(facts.ppid)
    // A worker's own fork keeps its title: only worker 0 forks workers (fork_worker).
    if (parent?.ppid === masterPid) return parent.masterInTitle === masterPid && parent.index === 0 && facts.index !== 0
    return facts.masterInTitle === masterPid && facts.uid !== undefined && facts.uid === masterUid
  }
}

/**
 * Whether the live family agrees that a restart is done: every worker the log counted is alive
 * (`missing` otherwise) and serves (`unexpected` while it does not yet), and every live worker is
 * one of them (an old one not yet replaced, or one still booting, is `unexpected`). `keep`: an old
 * worker Puma keeps (worker 0 in a refork). Processes that are no workers are left out.
 */
export function familyAgrees(
  members: readonly FamilyMember[],
  counted: readonly number[],
  keep: readonly number[],
): {missing: number[]; unexpected: FamilyMember[]} {
  const live = members.filter((member) => member.worker && !member.zombie)
  const livePids = new Set(live.map((member) => member.pid))
  const settled = (member: FamilyMember) =>
    keep.includes(member.pid) || (counted.includes(member.pid) && member.serving !== false)
  return {missing: counted.filter((pid) => !livePids.has(pid)), unexpected: live.filter((member) => !settled(member))}
}
