import {strict as assert} from 'node:assert'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import type {LogEvent} from '../../src/log/events.js'

import {type ExitName, exitNameOf} from '../../src/errors.js'
import {parseLine} from '../../src/log/parse.js'
import {
  FAILURE_DETAIL_GRACE_MS,
  initialState,
  type OldWorker,
  reduce,
  type RestartKind,
  type RestartOutcome,
  type RestartPlan,
  type RestartResult,
  type RestartShape,
  type RestartState,
} from '../../src/restart/machine.js'
import {fixturesDir} from '../helpers/paths.js'

/**
 * Every captured log in test/fixtures/logs, replayed line by line through the parser and the machine
 * as if ctl had sent the signal at one point of it. The lines before that point give the plan, as ctl
 * would have known it (master PID, workers, the previous phase); the lines after are the wait.
 */

const logsDir = join(fixturesDir, 'logs')
const T0 = 1_000_000
/** Puma writes a restart's lines milliseconds apart: one line per millisecond here. */
const LINE_MS = 1
const TIMEOUT_MS = 60_000
/** An unprefixed log (single mode, a custom formatter) never names its master: any PID will do. */
const UNNAMED_MASTER = 4242

interface Expected {
  booted: number[]
  exit: ExitName
  /** The failure's first error line, when there is one. */
  firstError?: string
  outcome: RestartResult
  phase?: number
  restart: RestartShape
}

interface Replay {
  /** What ends the wait if the log has not: the master's exit (where the log shows it ending), or the deadline. */
  ending: 'deadline' | 'master-exits'
  expected: Expected
  /** The signal ctl sent. */
  kind: RestartKind
  /** Plan fields the log does not show (a log that starts at the restart). */
  plan?: Partial<RestartPlan>
  /**
   * The signal goes just before this line (1-based). Default: the first line Puma wrote in answer
   * (its phase line, its hot-restart marker or its fallback line).
   */
  signalBefore?: number
}

const REPLAYS: Record<string, Replay[]> = {
  // Single mode, 2.0–2.2: the app fails to load and the master exits.
  'puma-2.1-single-load-error.log': [
    {
      kind: 'hot',
      signalBefore: 1,
      ending: 'master-exits',
      expected: {
        outcome: 'master-died',
        exit: 'masterDied',
        restart: 'hot',
        booted: [],
        firstError: '! Unable to load application',
      },
    },
  ],
  'puma-2.1-single.log': [
    {
      kind: 'hot',
      signalBefore: 1,
      ending: 'master-exits',
      expected: {outcome: 'master-died', exit: 'masterDied', restart: 'hot', booted: []},
    },
  ],
  // ≤4.1: only Ruby's dump on stderr says a worker failed; the first is a suspect, the second is real.
  'puma-2.16-phased-boot-failure-stderr.log': [
    {
      kind: 'phased',
      plan: {
        workers: 2,
        oldWorkers: [
          {index: 0, pid: 3043},
          {index: 1, pid: 3044},
        ],
        previousPhase: 0,
      },
      ending: 'deadline',
      expected: {
        outcome: 'worker-failed',
        exit: 'workerFailed',
        restart: 'phased',
        phase: 1,
        booted: [],
        firstError: "config.ru:3:in `block in <main>': boom: simulated boot failure (RuntimeError)",
      },
    },
  ],
  'puma-2.16-phased.log': [
    {
      kind: 'phased',
      ending: 'master-exits',
      expected: {outcome: 'done', exit: 'ok', restart: 'phased', phase: 1, booted: [3061, 3068]},
    },
  ],
  // The master says phased restarts are unavailable, ignores the USR1, and is stopped later.
  'puma-2.2-preload-usr1-ignored.log': [
    {
      kind: 'phased',
      ending: 'master-exits',
      expected: {outcome: 'master-died', exit: 'masterDied', restart: 'hot', booted: []},
    },
  ],
  'puma-2.7-phased.log': [
    {
      kind: 'phased',
      ending: 'master-exits',
      expected: {outcome: 'done', exit: 'ok', restart: 'phased', phase: 1, booted: [38_102, 38_110]},
    },
  ],
  'puma-3.12-phased-drain-kill.log': [
    {
      kind: 'phased',
      ending: 'master-exits',
      expected: {outcome: 'done', exit: 'ok', restart: 'phased', phase: 1, booted: [2290, 2297]},
    },
  ],
  'puma-3.4-seppuku.log': [
    {
      kind: 'phased',
      signalBefore: 2,
      ending: 'master-exits',
      expected: {
        outcome: 'master-died',
        exit: 'masterDied',
        restart: 'phased',
        booted: [],
        firstError: '[2600] ! Seppuku is the only choice.',
      },
    },
  ],
  // A PID that never booted timed out: a hung boot, whatever Puma does next.
  'puma-4.3-boot-timeout.log': [
    {
      kind: 'phased',
      plan: {
        workers: 2,
        oldWorkers: [
          {index: 0, pid: 2142},
          {index: 1, pid: 2150},
        ],
        previousPhase: 1,
      },
      ending: 'deadline',
      expected: {
        outcome: 'worker-failed',
        exit: 'workerFailed',
        restart: 'phased',
        phase: 2,
        booted: [],
        firstError: '[1888] ! Terminating timed out worker: 2301',
      },
    },
  ],
  'puma-4.3-no-app-error.log': [
    {
      kind: 'hot',
      signalBefore: 1,
      ending: 'master-exits',
      expected: {
        outcome: 'master-died',
        exit: 'masterDied',
        restart: 'hot',
        booted: [],
        firstError: '[1888] ERROR: No application configured, nothing to run',
      },
    },
  ],
  // One early termination alone is not a failure: the restart goes on and finishes.
  'puma-4.3-phased-silent-failure.log': [
    {
      kind: 'phased',
      ending: 'deadline',
      expected: {outcome: 'done', exit: 'ok', restart: 'phased', phase: 1, booted: [2142, 2150]},
    },
  ],
  'puma-5.0-phased-gemfile-loop.log': [
    {
      kind: 'phased',
      ending: 'deadline',
      expected: {
        outcome: 'worker-failed',
        exit: 'workerFailed',
        restart: 'phased',
        phase: 1,
        booted: [],
        firstError: '[4230] + Gemfile in context: /srv/app/releases/20201021/Gemfile',
      },
    },
  ],
  // A worker that never booted timed out (5.2 does not say at boot or check-in): a hung boot.
  'puma-5.2-phased.log': [
    {
      kind: 'phased',
      ending: 'master-exits',
      expected: {
        outcome: 'worker-failed',
        exit: 'workerFailed',
        restart: 'phased',
        phase: 1,
        booted: [],
        firstError: '[5200] ! Terminating timed out worker: 5300',
      },
    },
  ],
  'puma-5.6-boot-timeout.log': [
    {
      kind: 'phased',
      ending: 'master-exits',
      expected: {
        outcome: 'worker-failed',
        exit: 'workerFailed',
        restart: 'phased',
        phase: 1,
        booted: [],
        firstError: '[8662] ! Terminating timed out worker (worker failed to boot within 4 seconds): 8686',
      },
    },
  ],
  // The console after its first banner: a restart's lines go to the log file, never here.
  'puma-5.6-cluster-banner.log': [
    {
      kind: 'phased',
      signalBefore: 11,
      ending: 'deadline',
      expected: {outcome: 'timed-out', exit: 'timedOut', restart: 'phased', booted: []},
    },
  ],
  'puma-5.6-hot-restart-boot-failure.log': [
    {
      kind: 'hot',
      ending: 'master-exits',
      expected: {
        outcome: 'worker-failed',
        exit: 'workerFailed',
        restart: 'hot',
        phase: 0,
        booted: [],
        firstError: '[9506] ! Unable to start worker',
      },
    },
  ],
  'puma-5.6-hot-restart.log': [
    {
      kind: 'hot',
      ending: 'master-exits',
      expected: {outcome: 'done', exit: 'ok', restart: 'hot', phase: 0, booted: [9142, 9144]},
    },
  ],
  'puma-5.6-phased-boot-failure.log': [
    {
      kind: 'phased',
      ending: 'master-exits',
      expected: {
        outcome: 'worker-failed',
        exit: 'workerFailed',
        restart: 'phased',
        phase: 1,
        booted: [],
        firstError: '[8547] ! Unable to start worker',
      },
    },
  ],
  'puma-5.6-phased.log': [
    {
      kind: 'phased',
      ending: 'master-exits',
      expected: {outcome: 'done', exit: 'ok', restart: 'phased', phase: 1, booted: [8376, 8383]},
    },
  ],
  'puma-5.6-preload-banner.log': [
    {
      kind: 'phased',
      signalBefore: 12,
      ending: 'deadline',
      expected: {outcome: 'timed-out', exit: 'timedOut', restart: 'phased', booted: []},
    },
  ],
  'puma-5.6-preload-fallback.log': [
    {
      kind: 'phased',
      ending: 'master-exits',
      expected: {outcome: 'done', exit: 'ok', restart: 'hot', phase: 0, booted: [9203, 9205]},
    },
  ],
  'puma-5.6-preload-hot-restart-load-error.log': [
    {
      kind: 'hot',
      ending: 'master-exits',
      expected: {
        outcome: 'master-died',
        exit: 'masterDied',
        restart: 'hot',
        phase: 0,
        booted: [],
        firstError: '[9433] ! Unable to load application: RuntimeError: boom',
      },
    },
  ],
  // Not a restart: HUP reopens the logs, then pumactl halts the server while ctl waits.
  'puma-5.6-reopen-halt.log': [
    {
      kind: 'phased',
      signalBefore: 6,
      ending: 'master-exits',
      expected: {outcome: 'master-died', exit: 'masterDied', restart: 'phased', booted: []},
    },
  ],
  'puma-5.6-single-banner.log': [
    {
      kind: 'hot',
      signalBefore: 9,
      ending: 'deadline',
      expected: {outcome: 'timed-out', exit: 'timedOut', restart: 'hot', booted: []},
    },
  ],
  'puma-5.6-single-restarts.log': [
    {
      kind: 'hot',
      ending: 'master-exits',
      expected: {outcome: 'done', exit: 'ok', restart: 'hot', phase: 0, booted: []},
    },
    {
      kind: 'phased',
      signalBefore: 14,
      ending: 'master-exits',
      expected: {outcome: 'done', exit: 'ok', restart: 'hot', phase: 0, booted: []},
    },
  ],
  // Not a restart: TTOU and TTIN replace worker 1 in phase 0, which is no new phase.
  'puma-5.6-ttou-ttin.log': [
    {
      kind: 'phased',
      signalBefore: 5,
      ending: 'master-exits',
      expected: {outcome: 'master-died', exit: 'masterDied', restart: 'phased', booted: []},
    },
  ],
  'puma-6.0-boot-failure.log': [
    {
      kind: 'phased',
      plan: {
        workers: 2,
        oldWorkers: [
          {index: 0, pid: 21_510},
          {index: 1, pid: 21_511},
        ],
        previousPhase: 0,
      },
      ending: 'deadline',
      expected: {
        outcome: 'worker-failed',
        exit: 'workerFailed',
        restart: 'phased',
        phase: 1,
        booted: [],
        firstError: '[21544] ! Unable to start worker',
      },
    },
  ],
  'puma-6.4-boot-timeout.log': [
    {
      kind: 'phased',
      plan: {
        workers: 2,
        oldWorkers: [
          {index: 0, pid: 18_880},
          {index: 1, pid: 18_881},
        ],
        previousPhase: 0,
      },
      ending: 'deadline',
      expected: {
        outcome: 'worker-failed',
        exit: 'workerFailed',
        restart: 'phased',
        phase: 1,
        booted: [],
        firstError: '[18871] ! Terminating timed out worker (Worker 0 failed to boot within 4 seconds): 18984',
      },
    },
  ],
  // A formatter without the PID (`{ |s| s }`): no line is attributable to the master, so nothing
  // counts (ctl follows /stats instead when it can; see restart-stats.test.ts).
  'puma-6.4-custom-formatter.log': [
    {
      kind: 'phased',
      ending: 'deadline',
      expected: {outcome: 'timed-out', exit: 'timedOut', restart: 'phased', phase: undefined, booted: []},
    },
  ],
  'puma-6.6-refork.log': [
    {
      kind: 'phased',
      ending: 'deadline',
      expected: {outcome: 'done', exit: 'ok', restart: 'refork', phase: 1, booted: [30_150, 30_157]},
    },
  ],
  'puma-8.0-preload-fallback.log': [
    {
      kind: 'phased',
      ending: 'deadline',
      expected: {outcome: 'done', exit: 'ok', restart: 'hot', phase: 0, booted: [21_193, 21_196]},
    },
  ],
  'puma-8.0-preload-load-error.log': [
    {
      kind: 'phased',
      ending: 'master-exits',
      expected: {
        outcome: 'master-died',
        exit: 'masterDied',
        restart: 'hot',
        phase: 0,
        booted: [],
        firstError: '[8449] ! Unable to load application: RuntimeError: boom: simulated boot failure',
      },
    },
  ],
}

function readLines(name: string): string[] {
  const lines = readFileSync(join(logsDir, name), 'utf8').split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines
}

const ANSWERS = new Set<LogEvent['kind']>(['hot-restart', 'phase-start', 'phased-fallback'])
const MASTER_LINES = new Set<LogEvent['kind']>([
  'banner-start',
  'banner-workers',
  'fatal',
  'hot-restart',
  'phase-start',
  'phased-fallback',
  'worker-booted',
  'worker-stopping',
])

/** The last event of a kind (Array#findLast is ES2023, newer than the build's target). */
function lastOf<K extends LogEvent['kind']>(events: LogEvent[], kind: K): Extract<LogEvent, {kind: K}> | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]
    if (event.kind === kind) return event as Extract<LogEvent, {kind: K}>
  }

  return undefined
}

/** What ctl would have known before the signal, read from the lines before it. */
function planFor(events: LogEvent[], signalAt: number, replay: Replay): RestartPlan {
  const before = events.slice(0, signalAt)
  const oldWorkers = new Map<number, OldWorker>()
  let previousPhase: number | undefined
  for (const event of before) {
    if (event.kind === 'worker-booted') {
      oldWorkers.set(
        event.index ?? event.workerPid,
        event.index === undefined ? {pid: event.workerPid} : {index: event.index, pid: event.workerPid},
      )
      previousPhase = event.phase
    }

    if (event.kind === 'worker-terminating') oldWorkers.delete(event.index)
  }

  const plan: RestartPlan = {
    kind: replay.kind,
    masterPid: events.find((e) => MASTER_LINES.has(e.kind) && e.prefixPid !== undefined)?.prefixPid ?? UNNAMED_MASTER,
    mode: 'cluster',
    workers: (lastOf(before, 'banner-workers') ?? lastOf(events, 'banner-workers'))?.workers ?? oldWorkers.size,
    oldWorkers: [...oldWorkers.values()],
    previousPhase,
    startedAt: T0,
    timeoutMs: TIMEOUT_MS,
    ...replay.plan,
  }
  plan.mode = lastOf(before, 'banner-start')?.mode ?? (plan.workers > 0 ? 'cluster' : 'single')
  return plan
}

function replay(name: string, how: Replay): RestartOutcome {
  const events = readLines(name).map((line) => parseLine(line))
  const signalAt = how.signalBefore === undefined ? events.findIndex((e) => ANSWERS.has(e.kind)) : how.signalBefore - 1
  assert.ok(signalAt >= 0, `${name}: no line answers a signal; say where it went`)
  let state: RestartState = initialState(planFor(events, signalAt, how))
  let at = T0
  for (const event of events.slice(signalAt)) {
    at += LINE_MS
    state = reduce(state, {type: 'log', event, at})
  }

  at += FAILURE_DETAIL_GRACE_MS
  state = reduce(state, {type: 'tick', at})
  state =
    how.ending === 'master-exits'
      ? reduce(state, {type: 'master-exited', at: at + 1})
      : reduce(state, {type: 'tick', at: T0 + TIMEOUT_MS})
  assert.ok(state.outcome, `${name}: no outcome`)
  return state.outcome
}

describe('replaying every captured log through the parser and the machine', () => {
  for (const [name, replays] of Object.entries(REPLAYS)) {
    for (const how of replays) {
      const at = how.signalBefore === undefined ? 'before its answer' : `before line ${how.signalBefore}`
      it(`${name}: ${how.kind === 'hot' ? 'USR2' : 'USR1'} ${at}`, () => {
        const outcome = replay(name, how)
        const actual: Expected = {
          outcome: outcome.outcome,
          exit: exitNameOf(outcome.exitCode),
          restart: outcome.restart,
          phase: outcome.phase,
          booted: outcome.workers.map((w) => w.newPid),
          firstError: outcome.errorLines[0],
        }
        assert.deepEqual(actual, {firstError: undefined, phase: undefined, ...how.expected})
      })
    }
  }

  it('has an expected outcome for every fixture log, and for no other', () => {
    const logs = readdirSync(logsDir).filter((name) => name.endsWith('.log'))
    assert.deepEqual(Object.keys(REPLAYS).sort(), logs.sort())
  })
})
