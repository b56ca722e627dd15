import {WORKER_TIMEOUT_SECONDS} from '../control/stats.js'

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '?'
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ]
  let rest = Math.floor(seconds)
  const parts: string[] = []
  for (const [unit, size] of units) {
    if (rest >= size || (unit === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    }
  }

  return parts.slice(0, 2).join(' ')
}

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '?'
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

/** A worker's last check-in, flagged when it is older than Puma's worker timeout. */
export function formatCheckin(ageSeconds: number | undefined): string {
  if (ageSeconds === undefined) return '-'
  return `${ageSeconds} s ago${ageSeconds > WORKER_TIMEOUT_SECONDS ? ' (STALE: past worker_timeout)' : ''}`
}
