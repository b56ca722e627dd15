import type {LogEvent, PumaEvent} from './events.js'

import {LINE_PATTERNS, type LinePattern, type PatternKind} from './dialects.js'

// Cluster mode's `[pid] ` prefix (docs/puma-facts.md §1.1), at a given place. PIDs are small; the bound keeps Number() exact.
const PREFIX_AT = /^\[(\d{1,10})\] /

/**
 * How many words a log_formatter may put between the `[pid] ` prefix and Puma's message
 * (`[pid] [host] 2026-11-29 15:00:00 +0000: - Worker 0 …`), how many prefixes of one line are
 * tried, and how many `[` are looked at from each end of it: a bound on the work an arbitrary
 * line can cause.
 */
const MAX_FORMATTER_WORDS = 8
const MAX_PREFIXES = 4
const MAX_BRACKETS = 32

/**
 * Splits the `[pid] ` prefix off a line. Puma writes it at the start, but a log_formatter may put
 * a timestamp in front, and app output without a newline glues itself in front of Puma's next
 * line: so the last prefix in the line counts. Single mode and PID-less formatters have none.
 */
export function splitPrefix(line: string): {message: string; prefixPid?: number} {
  const last = prefixesOf(line).at(-1)
  return last ? {prefixPid: last.pid, message: line.slice(last.end)} : {message: line}
}

/** The `[pid] ` prefixes of a line, in order: among its first and last few `[`. */
function prefixesOf(line: string): Array<{end: number; pid: number}> {
  const starts = new Set<number>()
  for (let at = line.indexOf('['); at !== -1 && starts.size < MAX_BRACKETS; at = line.indexOf('[', at + 1))
    starts.add(at)
  let examined = 0
  for (
    let at = line.lastIndexOf('[');
    at > 0 && examined < MAX_BRACKETS;
    at = line.lastIndexOf('[', at - 1), examined++
  )
    starts.add(at)
  const found: Array<{end: number; pid: number}> = []
  for (const at of [...starts].sort((a, b) => a - b)) {
    const match = PREFIX_AT.exec(line.slice(at, at + 13))
    if (match) found.push({pid: Number(match[1]), end: at + match[0].length})
  }

  return found.slice(-MAX_PREFIXES)
}

/**
 * Turns one log line into a typed event; anything Puma did not write in a known format
 * (app output, backtraces, 4-space continuation lines, banner details) is `other`.
 * `prefixPid` says who wrote it as far as the text goes: whether that is true is for the reader
 * to check (the master's PID, the kernel). Never throws: the log is arbitrary bytes from
 * processes we do not control.
 */
export function parseLine(line: string): LogEvent {
  // A caller reading a file split on "\n" leaves the "\r" of CRLF line ends
  const text = typeof line === 'string' ? line.replace(/\r?\n$|\r$/, '') : ''
  try {
    const prefixes = prefixesOf(text)
    // The last prefix first: the one Puma wrote when text was glued in front of its line.
    for (const prefix of [...prefixes].reverse()) {
      const event = matchAfterPrefix(text.slice(prefix.end))
      if (event) return {...event, prefixPid: prefix.pid, line: text}
    }

    const event = matchMessage(text) ?? {kind: 'other'}
    const prefixPid = event.kind === 'other' ? prefixes.at(-1)?.pid : undefined
    return prefixPid === undefined ? {...event, line: text} : {...event, prefixPid, line: text}
  } catch {
    return {kind: 'other', line: text}
  }
}

/**
 * One of Puma's messages after a few words of a line, prefix or not: how a log written through a
 * log_formatter without the PID shows itself. Such a line is never taken as Puma's.
 */
export function messageAnywhere(line: string): PumaEvent | undefined {
  return matchAfterPrefix(line)
}

/** Puma's message right after the prefix, or after the words a log_formatter put in between. */
function matchAfterPrefix(rest: string): PumaEvent | undefined {
  let start = 0
  for (let word = 0; word <= MAX_FORMATTER_WORDS; word++) {
    const event = matchMessage(rest.slice(start))
    if (event) return event
    const space = rest.indexOf(' ', start)
    if (space === -1) return undefined
    start = space + 1
  }

  return undefined
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
  'banner-restarts': (g, fixed) => ({
    phased: fixed?.phased ?? g.phased === '✔',
    ...(g.refork === undefined ? {} : {refork: g.refork === '✔'}),
  }),
  'banner-start': (g, fixed) => ({mode: fixed?.mode ?? (g.mode === 'single' ? 'single' : 'cluster')}),
  'banner-version': (g) => ({version: g.version ?? ''}),
  'banner-workers': (g) => ({workers: Number(g.workers)}),
  fatal: (g) => ({message: g.message ?? ''}),
  'hot-restart': none,
  'idle-stop': none,
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
