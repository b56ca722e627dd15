import {fetchStats, type PumaStats} from './control/stats.js'
import {WORKER_TIMEOUT_SECONDS} from './control/stats.js'
import {withConfig} from './target/config-target.js'
import {findControl} from './target/endpoint.js'
import {findTarget, type Target} from './target/find.js'
import {readProcessDetails} from './target/process-table.js'
import {type TargetSelector} from './target/selector.js'

export interface WorkerStatus {
  booted?: boolean
  checkinAgeSeconds?: number
  cpuSeconds?: number
  index?: number
  lastCheckin?: string
  /** From the control server's /stats, when it is known. */
  phase?: number
  pid: number
  rssBytes?: number
  /** No check-in for longer than Puma's worker timeout. */
  stale?: boolean
  startedAt?: string
  uptimeSeconds?: number
}

export interface ServerStatus {
  binds: string[]
  folder?: string
  foundBy: string
  mode: 'cluster' | 'single'
  /** From /stats, when the control server is known. */
  phase?: number
  pid: number
  rssBytes?: number
  startedAt?: string
  /** Why /stats could not add to this status (the process table still could). */
  statsError?: string
  tag?: string
  uptimeSeconds?: number
  version?: string
  /** How the master was found, when the user should know (a stale default file passed over). */
  warnings?: string[]
  workers: WorkerStatus[]
}

/** What the process table says about a verified master and its workers, with /stats's view of each worker when given. */
export async function serverStatus(target: Target, stats?: Error | PumaStats, now = Date.now()): Promise<ServerStatus> {
  const {master} = target
  const [masterDetails, ...workerDetails] = [master.pid, ...master.workers.map((w) => w.pid)].map((pid) =>
    readProcessDetails(pid),
  )
  const uptime = (startedAt?: Date) =>
    startedAt ? Math.max(0, Math.round((now - startedAt.getTime()) / 100) / 10) : undefined
  return {
    pid: master.pid,
    version: master.version,
    mode: master.workers.length > 0 ? 'cluster' : 'single',
    binds: master.binds,
    tag: master.tag,
    folder: masterDetails?.cwd,
    startedAt: masterDetails?.startedAt.toISOString(),
    uptimeSeconds: uptime(masterDetails?.startedAt),
    rssBytes: masterDetails?.rssBytes,
    foundBy: target.origin,
    phase: stats instanceof Error ? undefined : stats?.phase,
    statsError: stats instanceof Error ? stats.message : undefined,
    warnings: target.warnings,
    workers: master.workers.map((worker, i) => {
      const details = workerDetails[i]
      const seen = stats instanceof Error ? undefined : stats?.workerStatus.find((w) => w.pid === worker.pid)
      return {
        ...(seen && {
          phase: seen.phase,
          booted: seen.booted,
          lastCheckin: seen.lastCheckin,
          checkinAgeSeconds: seen.checkinAgeSeconds,
          stale: seen.checkinAgeSeconds !== undefined && seen.checkinAgeSeconds > WORKER_TIMEOUT_SECONDS,
        }),
        index: worker.index,
        pid: worker.pid,
        startedAt: details?.startedAt.toISOString(),
        uptimeSeconds: uptime(details?.startedAt),
        rssBytes: details?.rssBytes,
        cpuSeconds: details?.cpuSeconds,
      }
    }),
  }
}

/**
 * The master and its workers from the process table, with /stats's view where a control server is
 * known. A status needs the master itself: a control URL alone does not do (unlike reach()).
 */
export async function status(selector: TargetSelector & {signal?: AbortSignal} = {}): Promise<ServerStatus> {
  const options = {...(await withConfig(selector)), signal: selector.signal}
  // A --control-url is checked before the lookup: a malformed one is a usage error, not "no master".
  const named = findControl(options)
  // Looking only: a master found by a scan from anywhere may be shown.
  const target = await findTarget({...options, intent: 'look'})
  const control = named ?? findControl(options, target)
  const stats = control
    ? await fetchStats(control, {timeoutMs: 3000, signal: options.signal}).catch((error: Error) => error)
    : undefined
  return serverStatus(target, stats)
}
