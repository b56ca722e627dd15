import {type LogEvent} from '../log/events.js'
import {type PumaStats} from './stats.js'

/**
 * What changed between two /stats answers, told as the log events the restart machine reads, so
 * that one machine decides whether the source is the log or the control server. A changed
 * started_at is a hot restart; a higher phase, a phased restart; a worker newly booted, a boot
 * line; an unbooted worker whose PID vanished, an early termination (how crash loops show).
 */
export function statsEvents(before: PumaStats | undefined, now: PumaStats, masterPid?: number): LogEvent[] {
  const events: LogEvent[] = []
  const note = (text: string) => `(/stats) ${text}`
  const restarted = before?.startedAt !== undefined && now.startedAt !== undefined && now.startedAt !== before.startedAt
  if (restarted) {
    events.push({kind: 'hot-restart', prefixPid: masterPid, line: note(`Puma restarted at ${now.startedAt}`)})
    if (now.mode === 'single') events.push({kind: 'ready', prefixPid: masterPid, line: note('Puma serves again (single mode)')})
  } else if (now.phase !== undefined && before?.phase !== undefined && now.phase > before.phase) {
    events.push({kind: 'phase-start', phase: now.phase, refork: false, prefixPid: masterPid, line: note(`phase ${now.phase} started`)})
  }

  const previous = new Map((restarted ? [] : (before?.workerStatus ?? [])).map((w) => [w.pid, w]))
  const present = new Set(now.workerStatus.map((w) => w.pid))
  for (const worker of before?.workerStatus ?? []) {
    if (!worker.booted && !present.has(worker.pid)) {
      events.push({kind: 'worker-early-termination', prefixPid: worker.pid, line: note(`worker ${worker.index} (pid ${worker.pid}) ended before it booted`)})
    }
  }

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

/** /stats agrees that the restart is over: every worker booted in `phase`, none old. */
export function statsConfirm(stats: PumaStats, phase: number | undefined): string | undefined {
  if (stats.mode === 'single') return undefined
  const lagging = stats.workerStatus.filter((w) => !w.booted || (phase !== undefined && w.phase !== phase))
  if (stats.oldWorkers || lagging.length > 0 || (phase !== undefined && stats.phase !== phase)) {
    return `/stats shows phase ${stats.phase}, ${stats.bootedWorkers ?? '?'}/${stats.workers ?? '?'} booted, ${stats.oldWorkers ?? 0} old`
  }

  return undefined
}
