import type {LogEvent, PumaEvent} from './events.js'

import {LINE_PATTERNS, type LinePattern} from './dialects.js'

// Cluster mode's `[pid] ` prefix (docs/puma-facts.md §1.1). PIDs are small; the bound keeps Number() exact.
const PREFIX = /^\[(\d{1,10})\] /

/** Splits Puma's cluster-mode `[pid] ` prefix off a line. Single mode and custom formatters have none. */
export function splitPrefix(line: string): {message: string; prefixPid?: number} {
  const match = PREFIX.exec(line)
  return match ? {prefixPid: Number(match[1]), message: line.slice(match[0].length)} : {message: line}
}

/**
 * Turns one log line into a typed event; anything Puma did not write in a known format
 * (app output, backtraces, 4-space continuation lines, banner details) is `other`.
 * Never throws: the log is arbitrary bytes from processes we do not control.
 */
export function parseLine(line: string): LogEvent {
  // A caller reading a file split on "\n" leaves the "\r" of CRLF line ends
  const text = typeof line === 'string' ? line.replace(/\r?\n$|\r$/, '') : ''
  try {
    const {prefixPid, message} = splitPrefix(text)
    const event = matchMessage(message) ?? {kind: 'other'}
    return prefixPid === undefined ? {...event, line: text} : {...event, prefixPid, line: text}
  } catch {
    return {kind: 'other', line: text}
  }
}

const PATTERNS: readonly LinePattern[] = LINE_PATTERNS

function matchMessage(message: string): PumaEvent | undefined {
  for (const pattern of PATTERNS) {
    const match = pattern.re.exec(message)
    if (match) return toEvent(pattern, match.groups ?? {})
  }

  return undefined
}

type Groups = Record<string, string | undefined>

function toEvent(pattern: LinePattern, g: Groups): PumaEvent {
  const {kind, fixed} = pattern
  switch (kind) {
    case 'app-load-error':

    case 'fatal':

    case 'ruby-exception': {
      return {kind, message: g.message ?? ''}
    }

    case 'banner-restarts': {
      return {kind, phased: fixed?.phased ?? g.phased === '✔'}
    }

    case 'banner-start': {
      return {kind, mode: fixed?.mode ?? (g.mode === 'single' ? 'single' : 'cluster')}
    }

    case 'banner-version': {
      return {kind, version: g.version ?? ''}
    }

    case 'banner-workers': {
      return {kind, workers: Number(g.workers)}
    }

    case 'listening': {
      return {kind, address: g.address ?? ''}
    }

    case 'phase-start': {
      return {kind, phase: Number(g.phase), refork: fixed?.refork ?? false}
    }

    case 'worker-booted': {
      return {
        kind,
        ...optional('index', g.index),
        workerPid: Number(g.pid),
        phase: Number(g.phase),
        ...optional('bootSeconds', g.secs),
      }
    }

    case 'worker-stopping': {
      return {kind, workerPid: Number(g.pid)}
    }

    case 'worker-terminating': {
      return {kind, index: Number(g.index), workerPid: Number(g.pid)}
    }

    case 'worker-timed-out': {
      const during = g.during === 'boot' ? 'boot' : g.during === 'check in' ? 'check-in' : 'unknown'
      return {kind, workerPid: Number(g.pid), ...optional('index', g.index), during, ...optional('seconds', g.timeout)}
    }

    default: {
      // The kinds without fields
      return {kind}
    }
  }
}

/** Leaves absent numeric fields out of the event rather than setting them to undefined. */
function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({[key]: Number(value)} as Record<K, number>)
}
