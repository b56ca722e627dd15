import type {PumaEventKind} from './events.js'

/**
 * Puma's log messages from 2.0 to 8.x, as data (docs/puma-facts.md §1). Each regex matches the message
 * after the `[pid] ` prefix has been split off, and its named groups carry the event's fields:
 * `pid` (a worker's PID), `index`, `phase`, `secs` (boot time), `timeout`, `during`, `mode`,
 * `version`, `workers`, `phased` and `refork` (✔ or ✖), `address`, `message`. parse.ts turns them into events.
 *
 * Patterns are tried in order and the first match wins; every regex is anchored, so app output
 * that merely mentions a Puma message stays `other`. `since`/`until` are the first and last
 * release tags that write the format (no `until`: still written by 8.x).
 */
export interface LinePattern {
  /** One verbatim message (no prefix): the dialect test checks it parses to this pattern. */
  example: string
  /** What the format implies without spelling it out. */
  fixed?: {mode?: 'cluster' | 'single'; phased?: boolean; refork?: boolean}
  id: string
  kind: Exclude<PumaEventKind, 'other'>
  re: RegExp
  since: string
  until?: string
}

export const LINE_PATTERNS = [
  // Banner (§1.2)
  {
    id: 'banner-start',
    kind: 'banner-start',
    since: '2.3.0',
    re: /^Puma starting in (?<mode>single|cluster) mode\.\.\.$/,
    example: 'Puma starting in cluster mode...',
  },
  {
    id: 'banner-start-2.0-cluster',
    kind: 'banner-start',
    since: '2.0.0',
    until: '2.2.2',
    re: /^Puma \d\S* starting in cluster mode\.\.\.$/,
    fixed: {mode: 'cluster'},
    example: 'Puma 2.1.1 starting in cluster mode...',
  },
  {
    id: 'banner-start-2.0-single',
    kind: 'banner-start',
    since: '2.0.0',
    until: '2.2.2',
    re: /^Puma \d\S* starting\.\.\.$/,
    fixed: {mode: 'single'},
    example: 'Puma 2.1.1 starting...',
  },
  {
    id: 'banner-version-2.3',
    kind: 'banner-version',
    since: '2.3.0',
    until: '5.0.4',
    re: /^\* Version (?<version>[^\s,]+)(?: \(.*\))?, codename: /s,
    example: '* Version 4.3.12 (ruby 3.1.7-p261), codename: Mysterious Traveller',
  },
  {
    id: 'banner-version-5.1',
    kind: 'banner-version',
    since: '5.1.0',
    re: /^\* Puma version: (?<version>\S+)/,
    example: '* Puma version: 5.6.5 (ruby 3.1.2-p20) ("Birdie\'s Version")',
  },
  {
    id: 'banner-workers-2.0',
    kind: 'banner-workers',
    since: '2.0.0.b2',
    until: '5.0.4',
    re: /^\* Process workers: (?<workers>\d+)$/,
    example: '* Process workers: 2',
  },
  {
    id: 'banner-workers-5.1',
    kind: 'banner-workers',
    since: '5.1.0',
    re: /^\* +Workers: (?<workers>\d+)$/,
    example: '*      Workers: 2',
  },
  {
    id: 'banner-phased-available',
    kind: 'banner-restarts',
    since: '2.2.0',
    until: '5.0.4',
    re: /^\* Phased restart available$/,
    fixed: {phased: true},
    example: '* Phased restart available',
  },
  {
    id: 'banner-restarts',
    kind: 'banner-restarts',
    since: '5.1.0',
    re: /^\* +Restarts: \([✔✖]\) hot \((?<phased>[✔✖])\) phased(?: \((?<refork>[✔✖])\) refork)?$/,
    example: '*     Restarts: (✔) hot (✖) phased (✖) refork',
  },
  {
    id: 'preloading',
    kind: 'preloading',
    since: '2.2.0',
    re: /^\* Preloading application$/,
    example: '* Preloading application',
  },
  {
    id: 'listening',
    kind: 'listening',
    since: '1.0.0',
    re: /^\* Listening on (?<address>\S.*)$/s,
    example: '* Listening on http://127.0.0.1:33971',
  },
  {
    id: 'inherited',
    kind: 'listening',
    since: '1.2.0',
    re: /^\* Inherited (?<address>\S.*)$/s,
    example: '* Inherited tcp://127.0.0.1:43101',
  },
  {
    id: 'activated',
    kind: 'listening',
    since: '3.3.0',
    re: /^\* Activated (?<address>\S.*)$/s,
    example: '* Activated unix:///run/puma.sock',
  },
  {id: 'ready', kind: 'ready', since: '1.0.0', re: /^Use Ctrl-C to stop$/, example: 'Use Ctrl-C to stop'},

  // Phased restart and refork (§1.4, §1.5); refork wrote the phased-restart lines until 6.6.0
  {
    id: 'phase-start',
    kind: 'phase-start',
    since: '2.0.0.b5',
    re: /^- Starting phased worker restart, phase: (?<phase>\d+)$/,
    fixed: {refork: false},
    example: '- Starting phased worker restart, phase: 1',
  },
  {
    id: 'refork-start',
    kind: 'phase-start',
    since: '6.6.1',
    re: /^- Starting worker refork, phase: (?<phase>\d+)$/,
    fixed: {refork: true},
    example: '- Starting worker refork, phase: 1',
  },
  {
    id: 'stopping-phased',
    kind: 'worker-stopping',
    since: '2.0.0.b5',
    re: /^- Stopping (?<pid>\d+) for phased upgrade\.\.\.$/,
    example: '- Stopping 7018 for phased upgrade...',
  },
  {
    id: 'stopping-refork',
    kind: 'worker-stopping',
    since: '6.6.1',
    re: /^- Stopping (?<pid>\d+) for refork\.\.\.$/,
    example: '- Stopping 7018 for refork...',
  },

  // Worker booted (§1.3): the master logs it with its own prefix
  {
    id: 'booted-2.0',
    kind: 'worker-booted',
    since: '2.0.0.b5',
    until: '2.7.1',
    re: /^- Worker (?<pid>\d+) booted, phase: (?<phase>\d+)$/,
    example: '- Worker 38016 booted, phase: 0',
  },
  {
    id: 'booted-2.8',
    kind: 'worker-booted',
    since: '2.8.0',
    until: '5.0.4',
    re: /^- Worker (?<index>\d+) \(pid: (?<pid>\d+)\) booted, phase: (?<phase>\d+)$/,
    example: '- Worker 0 (pid: 1389) booted, phase: 1',
  },
  {
    id: 'booted-5.1',
    kind: 'worker-booted',
    since: '5.1.0',
    until: '5.2.2',
    re: /^- Worker (?<index>\d+) \(PID: (?<pid>\d+)\) booted, phase: (?<phase>\d+)$/,
    example: '- Worker 0 (PID: 1389) booted, phase: 1',
  },
  {
    id: 'booted-5.3',
    kind: 'worker-booted',
    since: '5.3.0',
    re: /^- Worker (?<index>\d+) \(PID: (?<pid>\d+)\) booted in (?<secs>\d+(?:\.\d+)?(?:e[+-]?\d+)?)s, phase: (?<phase>\d+)$/,
    example: '- Worker 0 (PID: 7150) booted in 0.01s, phase: 1',
  },

  // Worker failures (§1.6)
  {
    id: 'gemfile-in-context',
    kind: 'worker-starting',
    since: '2.0.0',
    re: /^\+ Gemfile in context: /,
    example: '+ Gemfile in context: /srv/app/Gemfile',
  },
  {
    id: 'unable-to-start-worker',
    kind: 'worker-boot-error',
    since: '5.3.2',
    re: /^! Unable to start worker$/,
    example: '! Unable to start worker',
  },
  {
    id: 'early-termination',
    kind: 'worker-early-termination',
    since: '2.0.0.b7',
    re: /^Early termination of worker$/,
    example: 'Early termination of worker',
  },
  {
    id: 'timed-out-2.8',
    kind: 'worker-timed-out',
    since: '2.8.0',
    until: '5.2.2',
    re: /^! Terminating timed out worker: (?<pid>\d+)$/,
    example: '! Terminating timed out worker: 2200',
  },
  {
    id: 'timed-out-5.3',
    kind: 'worker-timed-out',
    since: '5.3.0',
    until: '6.4.0',
    re: /^! Terminating timed out worker \(worker failed to (?<during>boot|check in) within (?<timeout>\d+(?:\.\d+)?) seconds\): (?<pid>\d+)$/,
    example: '! Terminating timed out worker (worker failed to boot within 4 seconds): 18984',
  },
  {
    id: 'timed-out-6.4.1',
    kind: 'worker-timed-out',
    since: '6.4.1',
    re: /^! Terminating timed out worker \(Worker (?<index>\d+) failed to (?<during>boot|check in) within (?<timeout>\d+(?:\.\d+)?) seconds\): (?<pid>\d+)$/,
    example: '! Terminating timed out worker (Worker 0 failed to check in within 60 seconds): 19001',
  },
  // A wording none of the above knows still ends in ": PID"; better a vague event than none.
  {
    id: 'timed-out-any',
    kind: 'worker-timed-out',
    since: '2.8.0',
    re: /^! Terminating timed out worker.*: (?<pid>\d+)$/s,
    example: '! Terminating timed out worker (Worker 1 took too long): 123',
  },
  {
    id: 'terminating-3.7',
    kind: 'worker-terminating',
    since: '3.7.0',
    until: '5.0.4',
    re: /^- Worker (?<index>\d+) \(pid: (?<pid>\d+)\) terminating$/,
    example: '- Worker 1 (pid: 2210) terminating',
  },
  {
    id: 'terminating-5.1',
    kind: 'worker-terminating',
    since: '5.1.0',
    re: /^- Worker (?<index>\d+) \(PID: (?<pid>\d+)\) terminating$/,
    example: '- Worker 1 (PID: 9240) terminating',
  },

  // Hot restart and the phased-restart fallback (§1.7)
  {
    id: 'phased-fallback',
    kind: 'phased-fallback',
    since: '2.5.0',
    re: /^\* phased-restart called but not available, restarting normally\.$/,
    example: '* phased-restart called but not available, restarting normally.',
  },
  // 2.2–2.3 ignore the USR1 instead of hot-restarting; the event still says "no phased restart"
  {
    id: 'phased-unavailable-2.2',
    kind: 'phased-fallback',
    since: '2.2.0',
    until: '2.3.2',
    re: /^App preloaded, phased restart unavailable$/,
    example: 'App preloaded, phased restart unavailable',
  },
  {id: 'restarting', kind: 'hot-restart', since: '2.0.0', re: /^\* Restarting\.\.\.$/, example: '* Restarting...'},
  {
    id: 'unable-to-load-2.9.2',
    kind: 'app-load-error',
    since: '2.9.2',
    re: /^! Unable to load application: (?<message>.*)$/s,
    example: '! Unable to load application: RuntimeError: boom',
  },
  {
    id: 'unable-to-load-2.1',
    kind: 'app-load-error',
    since: '2.1.1',
    until: '2.9.1',
    re: /^! Unable to load application$/,
    example: '! Unable to load application',
  },

  // Stopping (§1.8)
  {
    id: 'shutting-down-workers',
    kind: 'shutdown',
    since: '2.0.0',
    re: /^- Gracefully shutting down workers\.\.\.$/,
    example: '- Gracefully shutting down workers...',
  },
  // ≤2.2 wrote this line with a leading space
  {
    id: 'stopping-single',
    kind: 'shutdown',
    since: '1.0.0',
    re: /^ ?- Gracefully stopping, waiting for requests to finish$/,
    example: '- Gracefully stopping, waiting for requests to finish',
  },
  {
    id: 'shutdown-marker',
    kind: 'shutdown',
    since: '2.9.2',
    re: /^=== puma shutdown: .* ===$/s,
    example: '=== puma shutdown: 2026-11-24 12:19:44 +0000 ===',
  },
  {id: 'goodbye', kind: 'shutdown', since: '1.0.0', re: /^- Goodbye!$/, example: '- Goodbye!'},
  {
    id: 'stopping-immediately',
    kind: 'shutdown',
    since: '1.0.0',
    re: /^\* Stopping immediately!$/,
    example: '* Stopping immediately!',
  },
  // idle_timeout: the master stops on its own, as if told to (a stop, not a crash)
  {
    id: 'idle-timeout',
    kind: 'idle-stop',
    since: '6.4.0',
    re: /^- All workers reached idle timeout$/,
    example: '- All workers reached idle timeout',
  },
  {
    id: 'idle-timeout-single',
    kind: 'idle-stop',
    since: '6.4.0',
    re: /^- Idle timeout reached$/,
    example: '- Idle timeout reached',
  },

  // The master is exiting
  {
    id: 'error',
    kind: 'fatal',
    since: '2.0.0',
    re: /^ERROR: (?<message>.*)$/s,
    example: 'ERROR: No application configured, nothing to run',
  },
  {
    id: 'seppuku',
    kind: 'fatal',
    since: '3.4.0',
    re: /^! (?<message>Seppuku is the only choice\.)$/,
    example: '! Seppuku is the only choice.',
  },

  // Not Puma's but Ruby's: a process died of an uncaught exception. 2.x–4.1 workers that fail to
  // boot leave only this on stderr (§1.6); Ruby ≤ 3.3 quotes with a backtick, 3.4+ with '.
  {
    id: 'ruby-uncaught-exception',
    kind: 'ruby-exception',
    since: '1.0.0',
    re: /^(?<message>\S+:\d+:in [`'][^\n]*': .* \([A-Z][\w:]*\))$/s,
    example: "config.ru:3:in 'block in <main>': boom: simulated boot failure (RuntimeError)",
  },
] as const satisfies readonly LinePattern[]

export type PatternKind = (typeof LINE_PATTERNS)[number]['kind']

// Compile-time check: every event kind except `other` has at least one pattern.
type Uncovered = Exclude<PumaEventKind, 'other' | PatternKind>
export const ALL_KINDS_COVERED: [Uncovered] extends [never] ? true : Uncovered = true

/**
 * Whether a Puma version (from the master's title, e.g. `5.6.5`) is `wanted` or later. False when
 * the version is unknown (an untitled 2.0–2.7 master): callers decide what that means.
 */
export function pumaAtLeast(version: string | undefined, wanted: string): boolean {
  if (version === undefined || !/^\d/.test(version)) return false
  const have = parts(version)
  const want = parts(wanted)
  for (let i = 0; i < want.length; i++) if ((have[i] ?? 0) !== want[i]) return (have[i] ?? 0) > want[i]
  return true
}

function parts(version: string): number[] {
  return version.split('.').map((part) => Number.parseInt(part, 10) || 0)
}
