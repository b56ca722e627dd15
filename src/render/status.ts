import {type ServerStatus} from '../status.js'
import {printable} from '../text/printable.js'
import {formatTable} from '../text/table.js'
import {type Paint} from './colour.js'
import {formatBytes, formatCheckin, formatDuration} from './format.js'

export function renderStatus(status: ServerStatus, paint: Paint): string[] {
  const version = status.version ? `Puma ${status.version}` : 'Puma (before 2.8)'
  const lines = [
    `${paint.green('●')} ${paint.bold(version)} ${status.mode} mode, pid ${status.pid}, up ${formatDuration(status.uptimeSeconds)}`,
    // A title's tag and binds, a folder's name and /stats's error are anyone's text.
    `  tag       ${printable(status.tag ?? '-')}`,
    `  binds     ${printable(status.binds.join(', ')) || '-'}`,
    `  folder    ${printable(status.folder ?? '?')}`,
    `  memory    ${formatBytes(status.rssBytes)} (master)`,
    `  found by  ${printable(status.foundBy)}`,
  ]
  for (const warning of status.warnings ?? []) lines.push(paint.yellow(`  warning   ${printable(warning)}`))
  if (status.phase !== undefined) lines.push(`  phase     ${status.phase}`)
  if (status.statsError) lines.push(paint.yellow(`  /stats    unavailable: ${printable(status.statsError)}`))
  if (status.mode === 'cluster') {
    lines.push(`  workers   ${status.workers.length}`, '')
    const withStats = status.workers.some((w) => w.phase !== undefined)
    const rows = status.workers.map((w) => {
      const row = [
        w.index === undefined ? '?' : String(w.index),
        String(w.pid),
        formatDuration(w.uptimeSeconds),
        formatBytes(w.rssBytes),
        formatDuration(w.cpuSeconds),
      ]
      if (withStats)
        row.push(
          w.phase === undefined ? '-' : String(w.phase),
          w.booted ? 'yes' : paint.red('no'),
          formatCheckin(w.checkinAgeSeconds),
        )
      return row
    })
    const header = ['INDEX', 'PID', 'UPTIME', 'RSS', 'CPU', ...(withStats ? ['PHASE', 'BOOTED', 'CHECK-IN'] : [])]
    lines.push(...formatTable(header, rows).map((line) => `  ${line}`))
  }

  return lines
}
