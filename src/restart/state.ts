import type {ExitCode} from '../errors.js'
import type {LogEvent} from '../log/events.js'
import type {FamilyMember} from '../target/family.js'
import type {Stall} from './stall.js'
import type {PidWitness} from './witness.js'

/**
 * The restart machine's vocabulary: what ctl knew before the signal (the plan), what the machine has
 * learnt from Puma since (the state), what it ends in (the outcome), and the questions every part of
 * the machine asks of the state (how many workers booted, which one Puma retries).
 */

export type RestartKind = 'hot' | 'phased'
/** What Puma really does: a USR1 can turn into a refork (fork_worker) or a hot restart (preload). */
export type RestartShape = 'hot' | 'phased' | 'refork'
export type RestartStatus = 'failing' | 'finished' | 'restarting' | 'soaking' | 'waiting'
export type RestartResult = 'done' | 'master-died' | 'timed-out' | 'worker-failed'
export type FailureCause = 'boot-error' | 'died-in-soak' | 'early-terminations' | 'hung-boot' | 'repeated-starts'

export interface OldWorker {
  index?: number // undefined for Puma < 2.8, whose worker titles carry no index
  pid: number
}

/** What ctl knew before it sent the signal. */
export interface RestartPlan {
  /** The kernel can be asked (Linux, a master PID): log lines' PIDs are checked, and the family before "done". */
  kernel?: boolean
  kind: RestartKind
  masterPid: number
  mode: 'cluster' | 'single'
  /** The folder the workers ran before the signal (src/restart/old-release.ts): a failure names it. */
  oldRelease?: string
  oldWorkers: OldWorker[]
  previousPhase?: number
  /** ctl asked for a refork: Puma before 6.6.1 logs it as a phased restart, which leaves worker 0 alone all the same. */
  refork?: boolean
  /** --soak: after the restart is done, watch this long more; a new worker that dies meanwhile fails it (0/undefined: off). */
  soakMs?: number
  /** --stall-timeout: no progress for this long ends the restart with exit 6 (src/restart/stall.ts; 0/undefined: off). */
  stallMs?: number
  /**
   * ctl started this Puma (src/restart/start.ts): a hot restart that began at the spawn, with no old
   * workers; the banner tells the mode and worker count, and the version, which the plan lacks then.
   */
  start?: boolean
  startedAt: number
  timeoutMs: number
  /** From the master's title; undefined for an untitled master (Puma 2.0–2.7). */
  version?: string
  /** The cluster's size: the most of the workers alive or dead at the signal, their indexes, the banner and /stats. */
  workers: number
}

/**
 * /stats arrives as 'log' inputs too: src/control/stats-events.ts tells its changes as log events.
 * `witness`: the kernel's word on the PID a log line names (none for /stats, or without a kernel).
 * 'family': the master's workers as the kernel sees them, asked for before a restart is called done
 * (`members` undefined: unreadable), and the master's own standing (single mode: does it serve
 * again?); it is a tick too.
 */
export type RestartInput =
  | {at: number; event: LogEvent; type: 'log'; witness?: PidWitness}
  | {at: number; master?: PidWitness; members: FamilyMember[] | undefined; type: 'family'}
  | {at: number; type: 'master-exited'}
  | {at: number; type: 'tick'}

export interface WorkerRecord {
  /** From the boot line (Puma 5.3+), else how long ctl saw this step take, rounded to 0.01 s. */
  bootSeconds?: number
  index?: number // undefined for Puma < 2.8 boot lines
  newPid: number
  oldPid?: number
}

export interface PendingWorker {
  index?: number
  oldPid?: number
  /** The old process is gone (stopped for its replacement, or shut down by a hot restart). */
  stopped: boolean
}

/** Who still answers requests while Puma retries a failing worker. */
export interface Serving {
  newWorkers: number
  oldPhase?: number
  oldWorkers: number
  retryingIndex?: number
  sentence: string
}

export interface RestartOutcome {
  durationMs: number
  errorLines: string[]
  errorLinesOmitted: number
  exitCode: ExitCode
  failure?: {cause: FailureCause; index?: number; pid?: number}
  /** A failure's: the folder the workers ran before the signal, which a deploy tool rolls back to. */
  oldRelease?: string
  /** How the wait ended: the word deploy tools read from --json. */
  outcome: RestartResult
  pending: PendingWorker[]
  phase?: number
  restart: RestartShape
  serving?: Serving
  /** --soak: how long the restart was watched after it was done, and whether every new worker lived through it. */
  soak?: {ok: boolean; seconds: number}
  /** --stall-timeout: the step the restart was stuck in when it ended for lack of progress. */
  stall?: Stall
  /** False when Puma never logged the start of the restart. */
  started: boolean
  summary: string
  warnings: string[]
  workers: WorkerRecord[]
}

/** Something worth a line of its own in plain output, produced by one reduce step. */
export interface Notice {
  kind: 'error' | 'restart-started' | 'warning' | 'worker-booted'
  message: string
  worker?: WorkerRecord
}

export interface RestartProgress {
  booted: number
  elapsedMs: number
  expected: number
  /** For a spinner: "phase 4: 2/3 workers booted". */
  label: string
  phase?: number
  restart: RestartShape
  status: RestartStatus
}

export interface Failure {
  cause: FailureCause
  index?: number
  pid?: number
  since: number
}

/**
 * Following lines that continue an error: the failing worker's, or indented ones after a master
 * error. `apart`: another line came after the worker's own, so an unprefixed indented line no
 * longer continues its error (app output can be indented too).
 */
export type Collecting = {apart?: boolean; from: 'worker'; pid?: number; suspectSince?: number} | {from: 'master'}

/** A new worker that ended before it booted: from its log line, or from /stats (which also knows its index). */
export interface EarlyTermination {
  index?: number
  line: string
  pid: number
  source?: 'stats'
}

export interface RestartState {
  /** Workers booted in the restart's phase (at most one record per index). */
  readonly booted: readonly WorkerRecord[]
  /** Every PID that logged a boot line since the signal, in any phase. */
  readonly bootPids: readonly number[]
  /** `suspectSince`: the worker's failure is a suspect (SUSPECT_BOOT_FAILURES), whose lines are only evidence. */
  readonly collecting?: Collecting
  readonly earlyTerminations: readonly EarlyTermination[]
  readonly errorLines: readonly string[]
  readonly errorLinesOmitted: number
  readonly failure?: Failure
  readonly fallbackSeen: boolean
  /** The master's line saying its idle_timeout stops it (6.4+). */
  readonly idleStop?: string
  /** PIDs named by lines the kernel contradicted: told once each. */
  readonly ignoredPids: readonly number[]
  /**
   * `kind`, `mode` and `workers` are what Puma is doing as far as its log has shown: the plan's
   * expectation until Puma says otherwise. A phased-restart fallback, or a hot restart where a phased
   * one was asked for, makes `kind` 'hot'; a hot restart's new banner gives `mode` and `workers`.
   * `plan` keeps what ctl knew before the signal (the summary says "instead of phased" from it).
   */
  readonly kind: RestartKind
  readonly lastBootAt?: number
  readonly mode: 'cluster' | 'single'
  readonly notices: readonly Notice[]
  readonly now: number
  readonly outcome?: RestartOutcome
  readonly phase?: number
  readonly plan: RestartPlan
  /** When the restart last moved (--stall-timeout only): a phase line, an old worker stopped, a worker booted. */
  readonly progressAt?: number
  readonly refork: boolean
  /** Soaking: done at `since`, watched until `endsAt`; the kernel last asked at `askedAt`. */
  readonly soak?: {askedAt?: number; endsAt: number; since: number}
  readonly stall?: Stall
  readonly startMarkerAt?: number
  readonly status: RestartStatus
  readonly stoppedPids: readonly number[]
  /** PIDs of the suspect boot failures (undefined for a 2.x–4.1 exception dump, which names no worker). */
  readonly suspects: ReadonlyArray<number | undefined>
  /**
   * The log shows every worker booted; the kernel must agree (every counted worker alive, no other
   * worker of the master) before the outcome: asked at `askedAt`, and again until it does.
   */
  readonly verifying?: {askedAt?: number; since: number; unexpected?: readonly number[]}
  readonly warnings: readonly string[]
  readonly workers: number
  readonly workerStarts: ReadonlyArray<{line: string; pid: number}>
}

export function initialState(plan: RestartPlan): RestartState {
  // A start has begun when Puma was spawned: its boots (phase 0) count from the first line on.
  const begun = plan.start ? {phase: 0, startMarkerAt: plan.startedAt} : {}
  return {
    plan,
    kind: plan.kind,
    mode: plan.mode,
    workers: plan.workers,
    status: plan.start ? 'restarting' : 'waiting',
    ...begun,
    refork: false,
    booted: [],
    bootPids: [],
    stoppedPids: [],
    earlyTerminations: [],
    workerStarts: [],
    fallbackSeen: false,
    ignoredPids: [],
    suspects: [],
    errorLines: [],
    errorLinesOmitted: 0,
    warnings: [],
    notices: [],
    now: plan.startedAt,
  }
}

/** Phased restarts need every index 0..W-1 at the new phase; a refork leaves worker 0 alone. */
export function neededIndices(state: RestartState): number[] {
  const first = state.kind === 'phased' && state.refork ? 1 : 0
  return Array.from({length: Math.max(0, state.workers - first)}, (_, i) => first + i)
}

/** Puma < 2.8 logs and titles workers by PID only. */
export function pidOnly(state: RestartState): boolean {
  return state.booted.some((r) => r.index === undefined) || state.plan.oldWorkers.some((w) => w.index === undefined)
}

export function unbootedIndices(state: RestartState): number[] {
  return neededIndices(state).filter((index) => !state.booted.some((record) => record.index === index))
}

export function bootedCount(state: RestartState): number {
  const needed = neededIndices(state)
  const indexed = needed.filter((index) => state.booted.some((record) => record.index === index)).length
  const pidOnlyBoots = state.booted.filter((record) => record.index === undefined).length
  return Math.min(needed.length, indexed + pidOnlyBoots)
}

export function isComplete(state: RestartState): boolean {
  if (state.kind === 'hot' && state.mode === 'single') return false // done only on "Use Ctrl-C to stop"
  // No worker known before the signal (all crash-looping, or only a control URL): one boot at least.
  return bootedCount(state) >= Math.max(1, neededIndices(state).length)
}

/**
 * The worker Puma keeps retrying: the index its own title or line gave (`known`); else the index of
 * the last old worker Puma stopped that has no new boot yet (Puma replaces a stopped worker at its
 * index, in the order of its own list, which after a respawn is not index order); else an index
 * that had no worker at the signal; else the lowest index not booted (a hot restart boots them all
 * at once).
 */
export function failingIndex(state: RestartState, known?: number): number | undefined {
  if (known !== undefined) return known
  if (pidOnly(state)) return undefined
  const unbooted = unbootedIndices(state)
  const stopped = state.stoppedPids
    .map((pid) => state.plan.oldWorkers.find((worker) => worker.pid === pid)?.index)
    .filter((index) => index !== undefined && unbooted.includes(index))
  // Dead at the signal: Puma respawns it before it replaces anyone, and replaces no one while it fails.
  const missing = unbooted.find((index) => !state.plan.oldWorkers.some((worker) => worker.index === index))
  return stopped.at(-1) ?? missing ?? unbooted[0]
}

export function oldPids(state: RestartState): number[] {
  return state.plan.oldWorkers.map((w) => w.pid)
}

/** By index; without indices (Puma < 2.8) each boot replaces the next worker the master stopped. */
export function oldPidFor(state: RestartState, index: number | undefined): number | undefined {
  if (index !== undefined) return state.plan.oldWorkers.find((w) => w.index === index)?.pid
  const used = new Set(state.booted.map((record) => record.oldPid))
  return state.stoppedPids.find((pid) => !used.has(pid))
}

export function shapeOf(state: RestartState): RestartShape {
  if (state.kind === 'hot') return 'hot'
  return state.refork || state.plan.refork ? 'refork' : 'phased'
}

export function addOnce(list: readonly number[], value: number): readonly number[] {
  return list.includes(value) ? list : [...list, value]
}
