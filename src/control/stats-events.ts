import {type LogEvent} from '../log/events.js'
import {type PumaStats} from './stats.js'

/**
 * What changed between two /stats answers, told as the log events the restart machine reads, so
 * that one machine decides whether the source is the log or the control server. A changed
 * started_at is a hot restart; a higher phase, a phased restart; a worker newly booted, a boot
 * line; an unbooted worker whose PID vanished, an early termination (how crash loops show).
 * `origin` is the answer from before the signal until a restart has been told, then undefined.
 */
export function statsEvents(
  before: PumaStats | undefined,
  now: PumaStats,
  masterPid?: number,
  told?: {origin?: PumaStats; reexecuted?: boolean},
): LogEvent[] {
  const {origin, reexecuted = false} = told ?? {origin: before}
  // `origin` (the answer from before the signal) is what a hot restart is told from: samples in
  // between may show a master that has already stopped its old workers. `reexecuted`: the kernel
  // saw the master re-execute, which single mode's second-resolution started_at may not show.
  const restarted = origin !== undefined && (reexecuted || hotRestarted(origin, now))
  const events = [
    ...restartEvents(before, now, masterPid, restarted),
    ...workerEvents(before, now, masterPid, restarted),
  ]
  return events.map((event) => ({...event, source: 'stats'}))
}

// Where a line of the log would be, what /stats showed: for messages and excerpts.
const note = (text: string) => `(/stats) ${text}`

function restartEvents(
  before: PumaStats | undefined,
  now: PumaStats,
  masterPid: number | undefined,
  restarted: boolean,
): LogEvent[] {
  if (restarted) {
    const hot: LogEvent = {kind: 'hot-restart', prefixPid: masterPid, line: note(`Puma restarted at ${now.startedAt}`)}
    if (now.mode !== 'single') return [hot]
    return [hot, {kind: 'ready', prefixPid: masterPid, line: note('Puma serves again (single mode)')}]
  }

  if (now.phase === undefined || before?.phase === undefined || now.phase <= before.phase) return []
  return [
    {
      kind: 'phase-start',
      phase: now.phase,
      refork: false,
      prefixPid: masterPid,
      line: note(`phase ${now.phase} started`),
    },
  ]
}

/** Unbooted workers that vanished (early terminations), then workers newly booted (after a hot restart, every booted one). */
function workerEvents(
  before: PumaStats | undefined,
  now: PumaStats,
  masterPid: number | undefined,
  restarted: boolean,
): LogEvent[] {
  const events: LogEvent[] = []
  const present = new Set(now.workerStatus.map((w) => w.pid))
  for (const worker of before?.workerStatus ?? []) {
    if (!worker.booted && !present.has(worker.pid)) {
      events.push({
        kind: 'worker-early-termination',
        index: worker.index,
        prefixPid: worker.pid,
        line: note(`worker ${worker.index} (pid ${worker.pid}) ended before it booted`),
      })
    }
  }

  const previous = new Map((restarted ? [] : (before?.workerStatus ?? [])).map((w) => [w.pid, w]))
  for (const worker of now.workerStatus) {
    if (worker.booted && !previous.get(worker.pid)?.booted) {
      events.push({
        kind: 'worker-booted',
        index: worker.index,
        workerPid: worker.pid,
        phase: worker.phase,
        prefixPid: masterPid,
        line: note(`worker ${worker.index} (pid ${worker.pid}) booted, phase ${worker.phase}`),
      })
    }
  }

  return events
}

/**
 * A hot restart resets started_at, but only to the second, and the phase to 0; a quick restart of
 * a young server shows neither. Then every worker is new at once while the phase did not move,
 * which a phased restart (one worker at a time, phase + 1) never shows.
 */
function hotRestarted(before: PumaStats, now: PumaStats): boolean {
  if (before.startedAt !== undefined && now.startedAt !== undefined && now.startedAt !== before.startedAt) return true
  if (before.phase !== undefined && now.phase !== undefined && now.phase < before.phase) return true
  const oldPids = new Set(before.workerStatus.map((w) => w.pid))
  return (
    oldPids.size > 0 &&
    now.workerStatus.length > 0 &&
    now.phase === before.phase &&
    now.workerStatus.every((w) => !oldPids.has(w.pid))
  )
}

/** /stats agrees that the restart is over: every worker booted in `phase`, none old. */
export function statsConfirm(stats: PumaStats, phase: number | undefined): string | undefined {
  if (stats.mode === 'single') return undefined
  const lagging = stats.workerStatus.filter((w) => !w.booted || (phase !== undefined && w.phase !== phase))
  if (stats.oldWorkers || lagging.length > 0 || (phase !== undefined && stats.phase !== phase)) {
    return `/stats shows phase ${stats.phase}, ${stats.bootedWorkers ?? '?'}/${stats.workers ?? '?'} booted, ${stats.oldWorkers ?? 0} old`
  }

  return undefined
}
