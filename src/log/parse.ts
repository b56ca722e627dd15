import type {LogEvent, PumaEvent} from './events.js'

import {LINE_PATTERNS, type LinePattern, type PatternKind} from './dialects.js'

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
type Fields<K extends PatternKind> = Omit<Extract<PumaEvent, {kind: K}>, 'kind'>

/** The fields of each kind of event, from a pattern's named groups and what its format implies. */
const FIELDS: {[K in PatternKind]: (g: Groups, fixed: LinePattern['fixed']) => Fields<K>} = {
  'app-load-error': (g) => ({message: g.message ?? ''}),
  'banner-restarts': (g, fixed) => ({phased: fixed?.phased ?? g.phased === '✔'}),
  'banner-start': (g, fixed) => ({mode: fixed?.mode ?? (g.mode === 'single' ? 'single' : 'cluster')}),
  'banner-version': (g) => ({version: g.version ?? ''}),
  'banner-workers': (g) => ({workers: Number(g.workers)}),
  fatal: (g) => ({message: g.message ?? ''}),
  'hot-restart': none,
  listening: (g) => ({address: g.address ?? ''}),
  'phase-start': (g, fixed) => ({phase: Number(g.phase), refork: fixed?.refork ?? false}),
  'phased-fallback': none,
  preloading: none,
  ready: none,
  'ruby-exception': (g) => ({message: g.message ?? ''}),
  shutdown: none,
  'worker-boot-error': none,
  'worker-booted': (g) => ({
    ...optional('index', g.index),
    workerPid: Number(g.pid),
    phase: Number(g.phase),
    ...optional('bootSeconds', g.secs),
  }),
  'worker-early-termination': none,
  'worker-starting': none,
  'worker-stopping': (g) => ({workerPid: Number(g.pid)}),
  'worker-terminating': (g) => ({index: Number(g.index), workerPid: Number(g.pid)}),
  'worker-timed-out': (g) => ({
    workerPid: Number(g.pid),
    ...optional('index', g.index),
    during: g.during === 'boot' ? 'boot' : g.during === 'check in' ? 'check-in' : 'unknown',
    ...optional('seconds', g.timeout),
  }),
}

function none(): Record<string, never> {
  return {}
}

function toEvent(pattern: LinePattern, g: Groups): PumaEvent {
  // The table's type ties each kind to its fields; indexing it by a union kind loses that link.
  return {kind: pattern.kind, ...FIELDS[pattern.kind](g, pattern.fixed)} as PumaEvent
}

/** Leaves absent numeric fields out of the event rather than setting them to undefined. */
function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({[key]: Number(value)} as Record<K, number>)
}
