import {type ControlEndpoint, controlJson, type RequestOptions} from './client.js'

/** Puma's default worker_timeout: a worker that has not checked in for longer is about to be killed. */
export const WORKER_TIMEOUT_SECONDS = 60

/**
 * Puma's /stats as JSON (docs/puma-facts.md §4): cluster keys since 2.3–4.1, single-mode keys
 * otherwise; `versions` and `busy_threads` since 6.x, `backlog_max` and `reactor_max` since 7.0
 * (every /stats call resets them), `io_threads` since 8.0. Keys a later Puma adds pass through too.
 */
export interface RawStats {
  [key: string]: unknown
  backlog?: number
  backlog_max?: number
  booted_workers?: number
  busy_threads?: number
  io_threads?: number
  max_threads?: number
  old_workers?: number
  phase?: number
  pool_capacity?: number
  reactor_max?: number
  requests_count?: number
  running?: number
  started_at?: string
  versions?: Record<string, unknown>
  worker_status?: RawWorkerStatus[]
  workers?: number
}

export interface RawWorkerStatus {
  [key: string]: unknown
  booted: boolean
  index: number
  last_checkin?: string
  last_status?:
    | Record<string, never>
    | {backlog?: number; max_threads?: number; pool_capacity?: number; requests_count?: number; running?: number}
  phase: number
  pid: number
  started_at?: string
}

export interface WorkerStats {
  backlog?: number
  booted: boolean
  /** Seconds since the last check-in, from ctl's clock. */
  checkinAgeSeconds?: number
  index: number
  lastCheckin?: string
  maxThreads?: number
  phase: number
  pid: number
  requests?: number
  running?: number
  startedAt?: string
}

export interface PumaStats {
  backlog?: number
  bootedWorkers?: number
  maxThreads?: number
  mode: 'cluster' | 'single'
  oldWorkers?: number
  phase?: number
  requests?: number
  /** Single mode's own thread pool figures. */
  running?: number
  startedAt?: string
  workers?: number
  workerStatus: WorkerStats[]
}

export function normalizeStats(raw: RawStats, now = Date.now()): PumaStats {
  const cluster = raw.worker_status !== undefined || raw.workers !== undefined
  const age = (at?: string) => (at ? Math.max(0, Math.round((now - Date.parse(at)) / 1000)) : undefined)
  return {
    mode: cluster ? 'cluster' : 'single',
    startedAt: raw.started_at,
    phase: raw.phase,
    workers: raw.workers,
    bootedWorkers: raw.booted_workers,
    oldWorkers: raw.old_workers,
    workerStatus: (raw.worker_status ?? []).map((w) => {
      const status = (w.last_status ?? {}) as NonNullable<RawWorkerStatus['last_status']> & {
        backlog?: number
        max_threads?: number
        requests_count?: number
        running?: number
      }
      return {
        index: w.index,
        pid: w.pid,
        phase: w.phase,
        booted: w.booted,
        startedAt: w.started_at,
        lastCheckin: w.last_checkin,
        checkinAgeSeconds: age(w.last_checkin),
        running: status.running,
        maxThreads: status.max_threads,
        backlog: status.backlog,
        requests: status.requests_count,
      }
    }),
    running: raw.running,
    maxThreads: raw.max_threads,
    backlog: raw.backlog,
    requests: raw.requests_count,
  }
}

export async function fetchStats(endpoint: ControlEndpoint, options?: RequestOptions): Promise<PumaStats> {
  return normalizeStats(await controlJson<RawStats>(endpoint, 'stats', options))
}

/** What `ctl stats` reports: ctl's reading of /stats, and `puma`, Puma's answer as it came, under Puma's own names. */
export type StatsReport = PumaStats & {puma: RawStats}

export async function fetchStatsReport(endpoint: ControlEndpoint, options?: RequestOptions): Promise<StatsReport> {
  const raw = await controlJson<RawStats>(endpoint, 'stats', options)
  return {...normalizeStats(raw), puma: raw}
}

/**
 * A restart already under way or stuck, seen before ctl signals: workers of several phases, old
 * workers left over, unbooted workers. With a `later` sample, an unbooted worker whose PID changed
 * in between is crash-looping. Undefined when all is settled.
 */
export function unsettled(stats: PumaStats, later?: PumaStats): string | undefined {
  if (stats.mode === 'single') return undefined
  const phases = [...new Set(stats.workerStatus.map((w) => w.phase))].sort((a, b) => a - b)
  const unbooted = stats.workerStatus.filter((w) => !w.booted)
  if (phases.length <= 1 && !stats.oldWorkers && unbooted.length === 0) return undefined
  const parts = [`Puma is in the middle of a restart: phase ${stats.phase}`]
  if (phases.length > 1) parts.push(`workers run phases ${phases.join(' and ')}`)
  if (stats.oldWorkers) parts.push(`${stats.oldWorkers} old worker(s) left`)
  for (const worker of unbooted) {
    const again = later?.workerStatus.find((w) => w.index === worker.index)
    const looping = again && !again.booted && again.pid !== worker.pid
    parts.push(
      `worker ${worker.index} not booted${looping ? ` and crash-looping (pid ${worker.pid}, then ${again.pid})` : ''}`,
    )
  }

  return `${parts.join('; ')}. The new restart goes ahead`
}

/** Whether a second look is worth taking: some worker is not booted. */
export function hasUnbooted(stats: PumaStats | undefined): boolean {
  return Boolean(stats?.workerStatus.some((w) => !w.booted))
}
