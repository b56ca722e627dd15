import {type PumaStats} from '../control/stats.js'
import {printable} from '../text/printable.js'
import {formatTable} from '../text/table.js'
import {type Paint} from './colour.js'
import {formatCheckin} from './format.js'

const show = (value: number | undefined) => (value === undefined ? '-' : String(value))

export function renderStats(stats: PumaStats, paint: Paint): string[] {
  if (stats.mode === 'single') {
    return [
      `single mode, started ${printable(stats.startedAt ?? '?')}`,
      `threads ${show(stats.running)}/${show(stats.maxThreads)}, backlog ${show(stats.backlog)}, requests ${show(stats.requests)}`,
    ]
  }

  const header = `cluster: phase ${show(stats.phase)}, ${show(stats.bootedWorkers)}/${show(stats.workers)} workers booted, ${show(stats.oldWorkers)} old, started ${printable(stats.startedAt ?? '?')}`
  // Puma lists workers in its own order (after a respawn, not by index).
  const rows = [...stats.workerStatus]
    .sort((a, b) => a.index - b.index)
    .map((w) => [
      String(w.index),
      String(w.pid),
      String(w.phase),
      w.booted ? 'yes' : paint.red('no'),
      formatCheckin(w.checkinAgeSeconds),
      `${show(w.running)}/${show(w.maxThreads)}`,
      show(w.backlog),
      show(w.requests),
    ])
  return [
    header,
    '',
    ...formatTable(['INDEX', 'PID', 'PHASE', 'BOOTED', 'CHECK-IN', 'THREADS', 'BACKLOG', 'REQUESTS'], rows),
  ]
}
