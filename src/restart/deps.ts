import {deliver, type DeliverableCommand, type DeliverOptions, type Delivery} from '../actions/deliver.js'
import {type ControlEndpoint, type RequestOptions} from '../control/client.js'
import {fetchStats, type PumaStats} from '../control/stats.js'
import {followLog, type FollowOptions, logEnd, type LogPosition} from '../log/follow.js'
import {
  type JournalFollower,
  type JournalOptions,
  type JournalUnit,
  journalUnitOf,
  startJournal,
} from '../log/journal.js'
import {assertMaySignal, type Signallable} from '../signals.js'
import {rereadControl} from '../target/endpoint.js'
import {readFamilyMembers, readProcessFacts, readThreads} from '../target/family.js'
import {hasExited, startTicks} from '../target/liveness.js'
import {childrenOf, type ProcessDetails, readProcessDetails} from '../target/process-table.js'
import {type Reach} from '../target/reach.js'
import {type Clock, realClock} from '../wait/clock.js'
import {type BootCheckOptions, type BootCheckResult, runBootCheck} from './boot-check.js'
import {planBootCheck} from './boot-plan.js'
import {environmentOf, type HealthOptions, type HealthResult, probeHealth} from './checks.js'
import {type MasterShown, type PumaTimeouts, readPumaTimeouts} from './stall-default.js'
import {type KernelReads} from './witness.js'

/**
 * Everything a restart does to the world or learns from it, passed in as one object: the real
 * ones below, or fakes with which a unit test drives a whole restart (a clock it advances by hand,
 * a scripted log and process table, a deliver that only records).
 */
export interface RestartDeps {
  /** Refuses (exit 4) a master ctl may not signal: checked before anything else. */
  assertMaySignal(master: Signallable): void
  /** Before a hot restart: loads the new release as the master `pid` would (boot-check.ts). */
  checkBoot(pid: number, options: BootCheckOptions): Promise<BootCheckResult>
  /** The machine's time, the wake-ups it asks for, and every pause of the wait. */
  clock: Clock
  /** Sends the command: by signal to the master, or through the control server. */
  deliver(command: DeliverableCommand, to: Reach, options: DeliverOptions): Promise<Delivery>
  /** Puma's /stats. */
  fetchStats(control: ControlEndpoint, options?: RequestOptions): Promise<PumaStats>
  /** The lines a log file gets after `options.from`. */
  followLog(path: string, options: FollowOptions): AsyncIterable<string>
  /** Whether the process that started at `identity` (its start ticks) has exited. */
  hasExited(pid: number, identity: number | undefined): boolean
  /** The systemd unit whose journal gets the master's output, if any. */
  journalUnitOf(pid: number): Promise<JournalUnit | undefined>
  /** The master's family, one process, its threads: the kernel's word on what the log claims. */
  kernel: KernelReads
  /** Where a log file ends now. */
  logEnd(path: string): Promise<LogPosition>
  /** After the restart: the URL must answer 2xx. */
  probeHealth(url: string, options: HealthOptions): Promise<HealthResult>
  /** Puma's timeouts in the config the master loaded (its folder's default file, or -F); undefined: not known. */
  pumaTimeouts(
    folder: string,
    env: Record<string, string>,
    configFile?: string,
    shown?: MasterShown,
  ): Promise<PumaTimeouts | undefined>
  /** A process's environment (its PWD tells the folder a phased restart reloads). */
  readEnvironment(pid: number): Record<string, string>
  /** /proc/PID: the master's stdout, stderr and folder; a new worker's folder. */
  readProcessDetails(pid: number): ProcessDetails | undefined
  /** The control server as its state file records it now, while that names `masterPid`: Puma's next boot may move it. */
  rereadControl(stale: ControlEndpoint, masterPid: number): Promise<ControlEndpoint | undefined>
  /** journalctl -f for a unit. */
  startJournal(unit: JournalUnit | string, options: JournalOptions): JournalFollower
}

export const realRestartDeps: RestartDeps = {
  assertMaySignal,
  checkBoot,
  clock: realClock,
  deliver,
  fetchStats,
  followLog,
  hasExited,
  kernel: {
    children: childrenOf,
    family: readFamilyMembers,
    process: readProcessFacts,
    startTicks,
    threads: readThreads,
  },
  journalUnitOf,
  logEnd,
  probeHealth,
  pumaTimeouts: readPumaTimeouts,
  readEnvironment: environmentOf,
  readProcessDetails,
  rereadControl,
  startJournal,
}

/** The real check: planned from /proc, run in a throwaway process; no plan, no check (`unavailable`). */
async function checkBoot(pid: number, options: BootCheckOptions): Promise<BootCheckResult> {
  const plan = planBootCheck(pid)
  if ('unavailable' in plan)
    return {durationMs: 0, how: 'puma', lines: [], linesOmitted: 0, ok: false, ...plan, warnings: []}
  return runBootCheck(plan, options)
}
