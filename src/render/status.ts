import {type ServerStatus} from '../status.js'
import {type Paint} from './colour.js'
import {formatBytes, formatDuration} from './format.js'
import {formatTable} from './table.js'

export function renderStatus(status: ServerStatus, paint: Paint): string[] {
  const version = status.version ? `Puma ${status.version}` : 'Puma (before 2.8)'
  const lines = [
    `${paint.green('●')} ${paint.bold(version)} ${status.mode} mode, pid ${status.pid}, up ${formatDuration(status.uptimeSeconds)}`,
    `  tag       ${status.tag ?? '-'}`,
    `  binds     ${status.binds.join(', ') || '-'}`,
    `  folder    ${status.folder ?? '?'}`,
    `  memory    ${formatBytes(status.rssBytes)} (master)`,
    `  found by  ${status.foundBy}`,
  ]
  if (status.mode === 'cluster') {
    lines.push(`  workers   ${status.workers.length}`, '')
    const rows = status.workers.map((w) => [w.index === undefined ? '?' : String(w.index), String(w.pid), formatDuration(w.uptimeSeconds), formatBytes(w.rssBytes), formatDuration(w.cpuSeconds)])
    lines.push(...formatTable(['INDEX', 'PID', 'UPTIME', 'RSS', 'CPU'], rows).map((line) => `  ${line}`))
  }

  return lines
}
