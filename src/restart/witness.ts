import {type FamilyMember, type ProcessFacts, servingNow} from '../target/family.js'

/**
 * The kernel as a witness to what the log claims. A log line is text anyone can write (an app
 * prints what an HTTP client sends); the PIDs it names are facts the kernel keeps. So a "booted"
 * worker counts only if its PID is a live worker of the master that did not exist at the signal,
 * and before the restart is called done it must run Puma's server thread (Ruby names a thread
 * from inside it, a moment after Puma logs the boot); a failing or timed-out worker counts only if
 * the master forked it since the signal.
 */

/** The kernel reads a restart needs (src/target/family.ts), injected through RestartDeps. */
export interface KernelReads {
  family(masterPid: number): FamilyMember[] | undefined
  lastPid(): number | undefined
  process(pid: number): ProcessFacts | undefined
}

/** What the kernel showed just before the signal. */
export interface BeforeSignal {
  /** The master's family then, zombies included (a worker killed a moment before the signal is one). */
  family: FamilyMember[]
  /** The PID the kernel had handed out last. */
  lastPid?: number
  masterPid: number
  /** The master's threads then: a server thread not among them started since (single mode's re-exec). */
  masterTids: number[]
  masterUid?: number
}

/**
 * How a PID stands: `master`; a live worker of the master, `new` since the signal or `old`; gone
 * (or a zombie) and forked since the signal (`gone-new`) or in the family before it (`gone-old`);
 * or a `stranger`: anything else, which no line of Puma's can name.
 */
export type Standing = 'gone-new' | 'gone-old' | 'master' | 'new' | 'old' | 'stranger'

export interface PidWitness {
  /** Its title's worker index, when the title names this master. */
  index?: number
  /** The master only (single mode): a `puma srv` thread started since the signal; undefined when it names no thread `puma…` (Puma < 5). */
  serving?: boolean
  standing: Standing
}

export function readBeforeSignal(masterPid: number, kernel: KernelReads): BeforeSignal | undefined {
  const master = kernel.process(masterPid)
  const family = kernel.family(masterPid)
  if (!master || !family) return undefined
  return {
    masterPid,
    family,
    lastPid: kernel.lastPid(),
    masterTids: master.threads.map((thread) => thread.tid),
    masterUid: master.uid,
  }
}

export function witness(pid: number, before: BeforeSignal, kernel: KernelReads): PidWitness {
  const facts = kernel.process(pid)
  const index = facts?.masterInTitle === before.masterPid ? facts.index : undefined
  const wasThere = before.family.some((member) => member.pid === pid)
  if (pid === before.masterPid) return {standing: 'master', serving: facts && servingSince(facts, before)}
  if (facts && !facts.zombie) {
    if (!inFamily(facts, before, kernel)) return {standing: 'stranger'}
    return {standing: wasThere ? 'old' : 'new', index}
  }

  if (wasThere) return {standing: 'gone-old', index}
  return {standing: forkedSince(pid, before.lastPid, kernel.lastPid()) ? 'gone-new' : 'stranger', index}
}

/**
 * The master's child; under fork_worker, worker 0's child, or an orphan of it (re-parented when its
 * first parent died) whose title names the master and whose owner is the master's.
 */
function inFamily(facts: ProcessFacts, before: BeforeSignal, kernel: KernelReads): boolean {
  if (facts.ppid === before.masterPid) return true
  if (kernel.process(facts.ppid)?.ppid === before.masterPid) return true
  return facts.masterInTitle === before.masterPid && facts.uid !== undefined && facts.uid === before.masterUid
}

/** A server thread the master did not have at the signal: it re-executed and serves again. */
function servingSince(facts: ProcessFacts, before: BeforeSignal): boolean | undefined {
  const old = new Set(before.masterTids)
  return servingNow(facts.threads.filter((thread) => !old.has(thread.tid) || !thread.name.startsWith('puma srv')))
}

/** Whether `pid` was handed out between two readings of the last PID (PIDs wrap at pid_max). */
export function forkedSince(pid: number, from: number | undefined, to: number | undefined): boolean {
  if (from === undefined || to === undefined) return true // cannot tell: the other checks still stand
  return from <= to ? pid > from && pid <= to : pid > from || pid <= to
}

/**
 * Whether the live family agrees that a restart is done: every worker the log counted is alive
 * (`missing` otherwise) and serves (`unexpected` while it does not yet), and every live worker is
 * one of them (an old one not yet replaced, or one still booting, is `unexpected`). `keep`: an old
 * worker Puma keeps (worker 0 in a refork).
 */
export function familyAgrees(
  members: readonly FamilyMember[],
  counted: readonly number[],
  keep: readonly number[],
): {missing: number[]; unexpected: FamilyMember[]} {
  const live = members.filter((member) => !member.zombie)
  const livePids = new Set(live.map((member) => member.pid))
  const settled = (member: FamilyMember) =>
    keep.includes(member.pid) || (counted.includes(member.pid) && member.serving !== false)
  return {missing: counted.filter((pid) => !livePids.has(pid)), unexpected: live.filter((member) => !settled(member))}
}
