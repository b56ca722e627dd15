import {strict as assert} from 'node:assert'

import type {LogEvent} from '../../src/log/events.js'

import {EXIT} from '../../src/errors.js'
import {
  FAILURE_DETAIL_GRACE_MS,
  initialState,
  MAX_ERROR_LINES,
  progress,
  reduce,
  type RestartPlan,
  type RestartState,
  SILENT_FAILURE_EXTRA_STARTS,
  SILENT_FAILURE_TERMINATIONS,
  SUSPECT_BOOT_FAILURES,
} from '../../src/restart/machine.js'

const MASTER = 7013
const T0 = 1_000_000

function plan(overrides: Partial<RestartPlan> = {}): RestartPlan {
  return {
    kind: 'phased',
    masterPid: MASTER,
    mode: 'cluster',
    workers: 3,
    oldWorkers: [
      {index: 0, pid: 7018},
      {index: 1, pid: 7019},
      {index: 2, pid: 7020},
    ],
    startedAt: T0,
    timeoutMs: 60_000,
    previousPhase: 1,
    ...overrides,
  }
}

// Events as the parser produces them, with the raw line Puma wrote.
const prefixed = (pid: number | undefined, text: string) => (pid === undefined ? text : `[${pid}] ${text}`)
const log = {
  phaseStart: (phase: number, refork = false, pid: number | undefined = MASTER): LogEvent => ({
    kind: 'phase-start',
    phase,
    refork,
    prefixPid: pid,
    line: prefixed(
      pid,
      refork ? `- Starting worker refork, phase: ${phase}` : `- Starting phased worker restart, phase: ${phase}`,
    ),
  }),
  booted: (
    index: number,
    workerPid: number,
    phase: number,
    {bootSeconds = 0.01, pid = MASTER}: {bootSeconds?: number; pid?: number} = {},
  ): LogEvent => ({
    kind: 'worker-booted',
    index,
    workerPid,
    phase,
    bootSeconds,
    prefixPid: pid,
    line: prefixed(pid, `- Worker ${index} (PID: ${workerPid}) booted in ${bootSeconds}s, phase: ${phase}`),
  }),
  bootedPidOnly: (workerPid: number, phase: number): LogEvent => ({
    kind: 'worker-booted',
    workerPid,
    phase,
    prefixPid: MASTER,
    line: `[${MASTER}] - Worker ${workerPid} booted, phase: ${phase}`,
  }),
  stopping: (workerPid: number): LogEvent => ({
    kind: 'worker-stopping',
    workerPid,
    prefixPid: MASTER,
    line: `[${MASTER}] - Stopping ${workerPid} for phased upgrade...`,
  }),
  bootError: (workerPid: number): LogEvent => ({
    kind: 'worker-boot-error',
    prefixPid: workerPid,
    line: `[${workerPid}] ! Unable to start worker`,
  }),
  earlyTermination: (workerPid: number): LogEvent => ({
    kind: 'worker-early-termination',
    prefixPid: workerPid,
    line: `[${workerPid}] Early termination of worker`,
  }),
  timedOut: (workerPid: number, during: 'boot' | 'check-in' | 'unknown', index?: number): LogEvent => ({
    kind: 'worker-timed-out',
    workerPid,
    index,
    during,
    prefixPid: MASTER,
    line:
      during === 'unknown'
        ? `[${MASTER}] ! Terminating timed out worker: ${workerPid}`
        : `[${MASTER}] ! Terminating timed out worker (worker failed to ${during === 'boot' ? 'boot' : 'check in'} within 4 seconds): ${workerPid}`,
  }),
  starting: (workerPid: number): LogEvent => ({
    kind: 'worker-starting',
    prefixPid: workerPid,
    line: `[${workerPid}] + Gemfile in context: /srv/app/Gemfile`,
  }),
  fallback: (pid: number | undefined = MASTER): LogEvent => ({
    kind: 'phased-fallback',
    prefixPid: pid,
    line: prefixed(pid, '* phased-restart called but not available, restarting normally.'),
  }),
  hotRestart: (pid: number | undefined = MASTER): LogEvent => ({
    kind: 'hot-restart',
    prefixPid: pid,
    line: prefixed(pid, '* Restarting...'),
  }),
  bannerStart: (mode: 'cluster' | 'single', pid: number | undefined = MASTER): LogEvent => ({
    kind: 'banner-start',
    mode,
    prefixPid: pid,
    line: prefixed(pid, `Puma starting in ${mode} mode...`),
  }),
  bannerWorkers: (workers: number): LogEvent => ({
    kind: 'banner-workers',
    workers,
    prefixPid: MASTER,
    line: `[${MASTER}] *      Workers: ${workers}`,
  }),
  ready: (pid: number | undefined = MASTER): LogEvent => ({
    kind: 'ready',
    prefixPid: pid,
    line: prefixed(pid, 'Use Ctrl-C to stop'),
  }),
  appLoadError: (message: string, pid: number | undefined = MASTER): LogEvent => ({
    kind: 'app-load-error',
    message,
    prefixPid: pid,
    line: prefixed(pid, `! Unable to load application: ${message}`),
  }),
  other: (line: string, prefixPid?: number): LogEvent => ({kind: 'other', prefixPid, line: prefixed(prefixPid, line)}),
}

type Step = [msAfterStart: number, input: 'master-exited' | 'tick' | LogEvent]

/**
 * The first boot failure after the restart started is only a suspect (SUSPECT_BOOT_FAILURES): Puma 5.6's
 * three lines of a worker forked before the signal, to put before the failure a test is about.
 */
const suspectSteps = (at: number, workerPid: number): Step[] => [
  [at, log.bootError(workerPid)],
  [at + 1, log.other("config.ru:3:in 'block in <main>'", workerPid)],
  [at + 2, log.earlyTermination(workerPid)],
]
const suspectLines = (workerPid: number) => [
  `[${workerPid}] ! Unable to start worker`,
  `[${workerPid}] config.ru:3:in 'block in <main>'`,
]

function play(restartPlan: RestartPlan, steps: Step[], from: RestartState = initialState(restartPlan)): RestartState {
  let state = from
  for (const [offset, input] of steps) {
    const at = restartPlan.startedAt + offset
    state = reduce(
      state,
      input === 'tick'
        ? {type: 'tick', at}
        : input === 'master-exited'
          ? {type: 'master-exited', at}
          : {type: 'log', event: input, at},
    )
  }

  return state
}

function outcomeOf(state: RestartState) {
  assert.ok(state.outcome, `expected an outcome, status is ${state.status}`)
  return state.outcome
}

describe('restart machine', () => {
  describe('phased restart', () => {
    it('finishes when every index has booted in the new phase, in any order, ignoring old-phase respawns', () => {
      const steps: Step[] = [
        [100, log.phaseStart(2)],
        [200, log.stopping(7018)],
        [1100, log.booted(1, 7158, 2, {bootSeconds: 0.9})],
        [1200, log.booted(2, 7166, 1)], // an old-phase respawn: not progress
        [1300, log.booted(0, 7150, 2, {bootSeconds: 0.8})],
      ]
      const almost = play(plan(), steps)
      assert.equal(almost.outcome, undefined)
      assert.equal(progress(almost).label, 'phase 2: 2/3 workers booted')
      assert.deepEqual({booted: progress(almost).booted, expected: progress(almost).expected}, {booted: 2, expected: 3})

      const state = play(plan(), [[3000, log.booted(2, 7170, 2, {bootSeconds: 1.2})]], almost)
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'done')
      assert.equal(outcome.exitCode, EXIT.ok)
      assert.equal(outcome.restart, 'phased')
      assert.equal(outcome.phase, 2)
      assert.equal(outcome.durationMs, 3000)
      assert.deepEqual(outcome.workers, [
        {index: 1, oldPid: 7019, newPid: 7158, bootSeconds: 0.9},
        {index: 0, oldPid: 7018, newPid: 7150, bootSeconds: 0.8},
        {index: 2, oldPid: 7020, newPid: 7170, bootSeconds: 1.2},
      ])
      assert.deepEqual(outcome.pending, [])
      assert.equal(outcome.summary, 'Phased restart finished in 3 s: phase 2, 3/3 workers booted')
      assert.deepEqual(outcome.warnings, [])
      assert.deepEqual(state.notices, [
        {
          kind: 'worker-booted',
          message: 'worker 2 booted in phase 2 (pid 7170, was 7020, 1.2s)',
          worker: {index: 2, oldPid: 7020, newPid: 7170, bootSeconds: 1.2},
        },
      ])
    })

    it('reports progress and notices step by step', () => {
      const p = plan()
      const waiting = initialState(p)
      assert.equal(progress(waiting).label, 'waiting for Puma to start the phased restart')
      const started = play(p, [[50, log.phaseStart(2)]], waiting)
      assert.deepEqual(started.notices, [
        {kind: 'restart-started', message: 'Puma started the phased restart: phase 2'},
      ])
      assert.equal(progress(started).label, 'phase 2: 0/3 workers booted')
      const quiet = play(p, [[60, log.other('- TERM sent to 7018...', MASTER)]], started)
      assert.deepEqual(quiet.notices, [])
      assert.equal(progress(quiet).elapsedMs, 60)
    })

    it('takes the phase from the phase line when it is higher than expected', () => {
      const state = play(plan(), [
        [100, log.phaseStart(3)],
        [200, log.booted(0, 8001, 2)], // a previous phase's boot: not this restart
        [300, log.booted(0, 8101, 3)],
        [400, log.booted(1, 8102, 3)],
        [500, log.booted(2, 8103, 3)],
      ])
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'done')
      assert.equal(outcome.phase, 3)
      assert.deepEqual(
        outcome.workers.map((w) => w.newPid),
        [8101, 8102, 8103],
      )
      assert.deepEqual(outcome.warnings, [
        'Puma started phase 3, not 2: another phased restart or an automatic refork (fork_worker) came in at the same time',
      ])
    })

    it('follows a second phase that starts before the first finished', () => {
      const state = play(plan(), [
        [100, log.phaseStart(2)],
        [200, log.booted(0, 8001, 2)],
        [300, log.phaseStart(3)],
        [400, log.booted(1, 8002, 2)],
        [500, log.booted(2, 8003, 2)],
      ])
      assert.equal(state.outcome, undefined, 'phase 2 boots no longer finish it')
      assert.equal(state.phase, 3)
      assert.match(state.warnings[0], /Another phased restart \(phase 3\) began before phase 2 finished/)
    })

    it('counts distinct PIDs for Puma 2.0–2.7 boot lines, which have no index', () => {
      const p = plan({
        workers: 2,
        oldWorkers: [{pid: 38_016}, {pid: 38_017}],
        previousPhase: 0,
      })
      const state = play(p, [
        [100, log.phaseStart(1)],
        [200, log.stopping(38_016)],
        [1200, log.bootedPidOnly(39_001, 1)],
        [1300, log.bootedPidOnly(39_001, 1)], // the same line twice (a re-read): still one worker
        [1400, log.stopping(38_017)],
        [2200, log.bootedPidOnly(38_999, 0)], // old-phase respawn
        [2700, log.bootedPidOnly(39_002, 1)],
      ])
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'done')
      assert.deepEqual(outcome.workers, [
        {index: undefined, oldPid: 38_016, newPid: 39_001, bootSeconds: 1.1},
        {index: undefined, oldPid: 38_017, newPid: 39_002, bootSeconds: 1.5},
      ])
      assert.equal(outcome.summary, 'Phased restart finished in 2.70 s: phase 1, 2/2 workers booted')
    })

    it('needs only workers 1..W-1 for a refork', () => {
      const state = play(plan(), [
        [100, log.phaseStart(2, true)],
        [200, log.booted(1, 9101, 2)],
        [300, log.booted(2, 9102, 2)],
      ])
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'done')
      assert.equal(outcome.restart, 'refork')
      assert.equal(outcome.summary, 'Refork finished in 0.30 s: phase 2, 2/2 workers booted')
    })
  })

  describe('hot restart', () => {
    it('waits for a hot restart after a phased-restart fallback (preload_app)', () => {
      const p = plan()
      const steps: Step[] = [
        [50, log.fallback()],
        [60, log.other('- Gracefully shutting down workers...', MASTER)],
        [900, log.hotRestart()],
        [1000, log.bannerStart('cluster')],
        [1010, log.bannerWorkers(2)], // the re-read config now says 2
        [1020, log.ready()], // not readiness in cluster mode
        [1500, log.booted(0, 21_193, 0, {bootSeconds: 0})],
      ]
      const fellBack = play(p, steps.slice(0, 1))
      assert.equal(fellBack.kind, 'hot')
      assert.equal(fellBack.notices[0].kind, 'warning')
      assert.equal(progress(fellBack).label, 'waiting for Puma to restart')
      const state = play(p, [...steps.slice(1), [1600, log.booted(1, 21_196, 0, {bootSeconds: 0})]], fellBack)
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'done')
      assert.equal(outcome.restart, 'hot')
      assert.equal(outcome.phase, 0)
      assert.deepEqual(outcome.workers, [
        {index: 0, oldPid: 7018, newPid: 21_193, bootSeconds: 0},
        {index: 1, oldPid: 7019, newPid: 21_196, bootSeconds: 0},
      ])
      assert.equal(
        outcome.summary,
        'Hot restart (instead of phased) finished in 1.60 s: 2/2 workers booted, master pid 7013 kept',
      )
      assert.equal(outcome.warnings.length, 1)
      assert.match(outcome.warnings[0], /cannot do a phased restart here \(preload_app/)
    })

    it('counts only boot lines of new PIDs in cluster mode', () => {
      const p = plan({kind: 'hot', previousPhase: undefined})
      const steps: Step[] = [
        [10, log.booted(0, 7050, 0)], // before the marker: the old process's line
        [500, log.hotRestart()],
        [600, log.booted(0, 7018, 0)], // an old PID cannot be a new worker
        [700, log.booted(1, 11_268, 0)],
        [800, log.booted(2, 11_269, 0)],
      ]
      const waiting = play(p, steps)
      assert.equal(waiting.outcome, undefined)
      assert.equal(progress(waiting).label, 'hot restart: 2/3 workers booted')
      const outcome = outcomeOf(play(p, [[900, log.booted(0, 11_267, 0)]], waiting))
      assert.equal(outcome.outcome, 'done')
      assert.deepEqual(
        outcome.workers.map((w) => [w.index, w.newPid]),
        [
          [1, 11_268],
          [2, 11_269],
          [0, 11_267],
        ],
      )
      assert.equal(outcome.summary, 'Hot restart finished in 0.90 s: 3/3 workers booted, master pid 7013 kept')
    })

    it('finishes a single-mode hot restart on "Use Ctrl-C to stop" after the marker', () => {
      const p = plan({kind: 'hot', mode: 'single', workers: 0, oldWorkers: [], previousPhase: undefined})
      const before = play(p, [
        [10, log.ready(undefined)], // before the marker: the old image
        [400, log.hotRestart(undefined)],
        [450, log.bannerStart('single', undefined)],
      ])
      assert.equal(before.outcome, undefined)
      assert.equal(progress(before).label, 'hot restart: loading the app')
      const outcome = outcomeOf(play(p, [[2100, log.ready(undefined)]], before))
      assert.equal(outcome.outcome, 'done')
      assert.equal(outcome.exitCode, EXIT.ok)
      assert.equal(outcome.summary, 'Hot restart finished in 2.10 s: single mode, master pid 7013 kept')
    })

    it('warns when a hot restart happens instead of the phased restart without a fallback line', () => {
      const state = play(plan(), [
        [100, log.hotRestart()],
        [200, log.booted(0, 1, 0)],
        [200, log.booted(1, 2, 0)],
        [200, log.booted(2, 3, 0)],
      ])
      assert.equal(outcomeOf(state).restart, 'hot')
      assert.match(outcomeOf(state).warnings[0], /hot restart instead of the phased restart/)
    })
  })

  describe('worker boot failure', () => {
    it("2.x–4.1: Ruby's exception dump on stderr is a worker boot failure, with its backtrace", () => {
      const exception: LogEvent = {
        kind: 'ruby-exception',
        message: "config.ru:3:in `block in <main>': boom (RuntimeError)",
        line: "config.ru:3:in `block in <main>': boom (RuntimeError)",
      }
      const from: LogEvent = {kind: 'other', line: "\tfrom config.ru:in `<main>'"}
      const suspect = play(plan({previousPhase: undefined}), [
        [100, log.phaseStart(1)],
        [200, log.stopping(7018)],
        [250, exception], // the first: maybe a worker forked before the signal
        [251, from],
      ])
      assert.equal(suspect.status, 'restarting')
      const state = play(
        plan({previousPhase: undefined}),
        [
          [300, exception],
          [301, from],
          [300 + FAILURE_DETAIL_GRACE_MS, 'tick'],
        ],
        suspect,
      )
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'worker-failed')
      assert.deepEqual(outcome.failure, {cause: 'boot-error', index: 0, pid: undefined})
      assert.deepEqual(outcome.errorLines, [exception.line, from.line, exception.line, from.line])
    })

    it('the exception dump after "Unable to load application" is the master dying, not a worker', () => {
      const loadError: LogEvent = {
        kind: 'app-load-error',
        message: 'RuntimeError: boom',
        prefixPid: MASTER,
        line: `[${MASTER}] ! Unable to load application: RuntimeError: boom`,
      }
      const exception: LogEvent = {
        kind: 'ruby-exception',
        message: 'x',
        line: "config.ru:1:in `block in <main>': boom (RuntimeError)",
      }
      const state = play(plan({kind: 'hot', previousPhase: undefined}), [
        [100, {kind: 'hot-restart', prefixPid: MASTER, line: `[${MASTER}] * Restarting...`}],
        [200, loadError],
        [201, exception],
        [400, 'master-exited'],
      ])
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'master-died')
      assert.deepEqual(outcome.errorLines, [loadError.line, exception.line])
    })

    it('5.6: stops at "Unable to start worker", keeps its lines and says what still serves', () => {
      const failing = play(plan(), [
        [100, log.phaseStart(2)],
        [200, log.stopping(7018)],
        ...suspectSteps(250, 5400),
        [300, log.bootError(5415)],
      ])
      assert.equal(failing.status, 'failing')
      assert.equal(failing.outcome, undefined)
      assert.deepEqual(failing.notices, [{kind: 'error', message: 'Worker 0 failed to boot: ! Unable to start worker'}])
      assert.equal(progress(failing).label, 'Worker 0 failed to boot: reading its error')

      const state = play(
        plan(),
        [
          [301, log.other("config.ru:3:in 'block in <main>'", 5415)],
          [302, log.earlyTermination(5415)],
        ],
        failing,
      )
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'worker-failed')
      assert.equal(outcome.exitCode, EXIT.workerFailed)
      assert.equal(outcome.phase, 2)
      assert.deepEqual(outcome.failure, {cause: 'boot-error', index: 0, pid: 5415})
      assert.deepEqual(outcome.errorLines, [
        ...suspectLines(5400),
        '[5415] ! Unable to start worker',
        "[5415] config.ru:3:in 'block in <main>'",
      ])
      assert.deepEqual(outcome.serving, {
        newWorkers: 0,
        oldWorkers: 2,
        oldPhase: 1,
        retryingIndex: 0,
        sentence: '2 of 3 workers still run phase 1; Puma keeps retrying worker 0',
      })
      assert.equal(
        outcome.summary,
        'Worker 0 failed to boot in phase 2 (2 of 3 workers still run phase 1; Puma keeps retrying worker 0)',
      )
      assert.deepEqual(
        outcome.pending.map((w) => [w.index, w.oldPid, w.stopped]),
        [
          [0, 7018, true],
          [1, 7019, false],
          [2, 7020, false],
        ],
      )
    })

    const servingCases: Array<{booted: LogEvent[]; name: string; refork?: boolean; sentence: string; workers: number}> =
      [
        {
          name: 'one new, one old',
          booted: [log.booted(0, 100, 2)],
          workers: 3,
          sentence: '1 of 3 workers runs phase 2 and 1 still runs phase 1; Puma keeps retrying worker 1',
        },
        {name: 'a single worker', booted: [], workers: 1, sentence: 'no worker serves: Puma keeps retrying worker 0'},
        {
          name: 'refork keeps worker 0',
          booted: [],
          workers: 2,
          refork: true,
          sentence: '1 of 2 workers runs phase 2; Puma keeps retrying worker 1',
        },
      ]
    for (const c of servingCases) {
      it(`says what still serves: ${c.name}`, () => {
        const p = plan({workers: c.workers, oldWorkers: plan().oldWorkers.slice(0, c.workers)})
        const state = play(p, [
          [100, log.phaseStart(2, c.refork)],
          ...c.booted.map((event): Step => [200, event]),
          ...suspectSteps(250, 554),
          [300, log.bootError(555)],
          [310, log.earlyTermination(555)],
        ])
        assert.equal(outcomeOf(state).serving?.sentence, c.sentence)
      })
    }

    it('6.x: collects the message and the unprefixed backtrace, ignoring other lines, until the grace passes', () => {
      const p = plan({previousPhase: 4})
      const failing = play(p, [
        [100, log.phaseStart(5)],
        ...suspectSteps(150, 21_500),
        [200, log.bootError(21_544)],
        [201, log.other('boom: simulated boot failure', 21_544)],
        [201, log.other('- Stopping 7019 for phased upgrade...', MASTER)], // the master's line, not the error's
        [202, log.other("config.ru:2:in 'block in <main>'", 21_544)],
        [202, log.other("    /usr/share/rubygems/rack/builder.rb:116:in 'eval'")],
        [203, log.other("\tfrom /usr/lib/ruby/3.1.0/puma/cluster/worker.rb:62:in 'run'")],
        [203, log.other('GET / 200', 99_999)], // another process's line
        [204, 'tick'],
      ])
      assert.equal(failing.status, 'failing', 'the grace has not passed yet')
      const state = play(p, [[200 + FAILURE_DETAIL_GRACE_MS, 'tick']], failing)
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'worker-failed')
      assert.equal(outcome.durationMs, 200 + FAILURE_DETAIL_GRACE_MS)
      assert.deepEqual(outcome.errorLines, [
        ...suspectLines(21_500),
        '[21544] ! Unable to start worker',
        '[21544] boom: simulated boot failure',
        "[21544] config.ru:2:in 'block in <main>'",
        "    /usr/share/rubygems/rack/builder.rb:116:in 'eval'",
        "\tfrom /usr/lib/ruby/3.1.0/puma/cluster/worker.rb:62:in 'run'",
      ])
      assert.equal(
        outcome.summary,
        'Worker 0 failed to boot in phase 5: boom: simulated boot failure (2 of 3 workers still run phase 4; Puma keeps retrying worker 0)',
      )
    })

    it('keeps at most MAX_ERROR_LINES lines of a long backtrace and counts the rest', () => {
      const frames = Array.from({length: MAX_ERROR_LINES + 10}, (_, i): Step => [201, log.other(`    frame ${i}`)])
      const state = play(plan(), [
        [100, log.phaseStart(2)],
        ...suspectSteps(150, 2),
        [200, log.bootError(1)],
        ...frames,
        [202, log.earlyTermination(1)],
      ])
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'worker-failed')
      assert.equal(outcome.errorLines.length, MAX_ERROR_LINES)
      assert.deepEqual(outcome.errorLines.slice(0, 3), [...suspectLines(2), '[1] ! Unable to start worker'])
      assert.equal(
        outcome.errorLinesOmitted,
        suspectLines(2).length + 1 + frames.length - MAX_ERROR_LINES,
        "both attempts' lines count",
      )
    })

    it('hot restart of a non-preload cluster: no worker serves', () => {
      const p = plan({kind: 'hot', previousPhase: undefined})
      const state = play(p, [
        [100, log.hotRestart()],
        ...suspectSteps(200, 30_999),
        [300, log.bootError(31_000)],
        [301, log.other('boom', 31_000)],
        [302, log.earlyTermination(31_000)],
      ])
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'worker-failed')
      assert.equal(outcome.serving?.sentence, 'no worker serves: Puma keeps retrying')
      assert.equal(
        outcome.summary,
        'Worker 0 failed to boot after the hot restart: boom (no worker serves: Puma keeps retrying)',
      )
      assert.deepEqual(outcome.errorLines, [
        ...suspectLines(30_999),
        '[31000] ! Unable to start worker',
        '[31000] boom',
      ])
    })

    it('4.3: repeated early terminations of never-booted workers count as a failure', () => {
      const steps: Step[] = [
        [100, log.phaseStart(2)],
        [150, log.earlyTermination(7019)], // an old worker: not a failed boot
        [200, log.booted(0, 1500, 2)],
        [250, log.earlyTermination(1500)], // booted, so not a failed boot
        ...Array.from({length: SILENT_FAILURE_TERMINATIONS - 1}, (_, i): Step => [
          300 + i,
          log.earlyTermination(1600 + i),
        ]),
        [400, log.earlyTermination(1600)], // the same PID again is not another attempt
      ]
      const almost = play(plan(), steps)
      assert.equal(almost.outcome, undefined)
      assert.equal(almost.earlyTerminations.length, SILENT_FAILURE_TERMINATIONS - 1)

      const state = play(plan(), [[500, log.earlyTermination(1700)]], almost)
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'worker-failed')
      assert.equal(outcome.exitCode, EXIT.workerFailed)
      assert.deepEqual(outcome.failure, {cause: 'early-terminations', index: 1, pid: undefined})
      assert.equal(outcome.errorLines.length, SILENT_FAILURE_TERMINATIONS)
      assert.equal(outcome.errorLines.at(-1), '[1700] Early termination of worker')
      assert.equal(
        outcome.summary,
        `New workers keep ending while booting in phase 2, with no reason logged: ${SILENT_FAILURE_TERMINATIONS} early terminations ` +
          '(1 of 3 workers runs phase 2 and 1 still runs phase 1; Puma keeps retrying worker 1)',
      )
    })

    it('repeated worker starts without boots count as a failure, allowing for workers booting in parallel', () => {
      const p = plan({kind: 'hot', previousPhase: undefined})
      const parallel: Step[] = [
        [100, log.hotRestart()],
        [200, log.starting(7018)], // an old worker's PID: not a new start
        [200, log.starting(31_001)],
        [200, log.starting(31_002)],
        [200, log.starting(31_003)],
        [900, log.booted(0, 31_001, 0)],
        [900, log.booted(1, 31_002, 0)],
      ]
      const almost = play(p, [
        ...parallel,
        ...Array.from({length: SILENT_FAILURE_EXTRA_STARTS - 1}, (_, i): Step => [1000 + i, log.starting(32_000 + i)]),
        [1050, log.starting(32_000)], // the same PID again is not another start
      ])
      assert.equal(almost.outcome, undefined, 'one start per worker still to boot is not a respawn')

      const outcome = outcomeOf(play(p, [[1100, log.starting(33_000)]], almost))
      assert.equal(outcome.outcome, 'worker-failed')
      assert.deepEqual(outcome.failure, {cause: 'repeated-starts', index: 2, pid: undefined})
      assert.equal(outcome.errorLines.length, SILENT_FAILURE_EXTRA_STARTS + 1, 'worker 2 and its respawns')
      assert.equal(outcome.errorLines[0], '[31003] + Gemfile in context: /srv/app/Gemfile')
      assert.equal(
        outcome.summary,
        `New workers keep starting but never boot after the hot restart, with no reason logged: ${SILENT_FAILURE_EXTRA_STARTS + 3} starts, 2 boots ` +
          '(2 of 3 workers serve; Puma keeps retrying the rest)',
      )
    })

    it('a hung boot ("failed to boot within") fails at once, quoting the line', () => {
      const state = play(plan(), [
        [100, log.phaseStart(2)],
        [150, log.timedOut(7020, 'check-in')], // a busy old worker, not a boot
        [160, log.timedOut(7019, 'unknown')], // pre-5.3 wording for an old worker: not a boot
        [4100, log.timedOut(18_984, 'boot')],
      ])
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'worker-failed')
      assert.deepEqual(outcome.failure, {cause: 'hung-boot', index: 0, pid: 18_984})
      assert.deepEqual(outcome.errorLines, [
        '[7013] ! Terminating timed out worker (worker failed to boot within 4 seconds): 18984',
      ])
      assert.equal(
        outcome.summary,
        'Worker 0 hung while booting in phase 2; Puma killed it at its boot timeout (2 of 3 workers still run phase 1; Puma keeps retrying worker 0)',
      )
    })

    it('a pre-5.3 timeout line for a PID that never booted is a hung boot; 6.4.1+ names the index', () => {
      const old = outcomeOf(
        play(plan(), [
          [100, log.phaseStart(2)],
          [200, log.timedOut(18_984, 'unknown')],
        ]),
      )
      assert.equal(old.failure?.cause, 'hung-boot')
      const named = outcomeOf(
        play(plan(), [
          [100, log.phaseStart(2)],
          [200, log.timedOut(18_984, 'boot', 2)],
        ]),
      )
      assert.equal(named.failure?.index, 2)
    })
  })

  describe('a boot failure that may come from before the restart (rollback of a broken release)', () => {
    const SUSPECT_WARNING =
      "a worker (pid 5400) failed to boot; waiting for Puma's next attempt (a worker started before the restart may still run the old code)"

    it('tolerates exactly one boot failure', () => {
      assert.equal(SUSPECT_BOOT_FAILURES, 1)
    })

    it("a stale worker's failure just after the phase started, then every worker boots: done, exit 0, with a warning", () => {
      const p = plan()
      const suspect = play(p, [
        [100, log.phaseStart(2)],
        [110, log.bootError(5400)], // forked before the signal: it loaded the broken release
      ])
      assert.equal(suspect.status, 'restarting')
      assert.equal(suspect.outcome, undefined)
      assert.deepEqual(suspect.notices, [{kind: 'warning', message: SUSPECT_WARNING}])
      assert.equal(progress(suspect).label, 'phase 2: 0/3 workers booted')

      const state = play(
        p,
        [
          [111, log.other("config.ru:1:in 'block in <main>'", 5400)],
          [300, log.booted(0, 8001, 2)], // Puma's next attempt loads the good release
          [400, log.booted(1, 8002, 2)],
          [500, log.booted(2, 8003, 2)],
        ],
        suspect,
      )
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'done')
      assert.equal(outcome.exitCode, EXIT.ok)
      assert.equal(outcome.failure, undefined)
      assert.deepEqual(
        outcome.workers.map((w) => w.newPid),
        [8001, 8002, 8003],
      )
      assert.deepEqual(
        outcome.errorLines,
        ['[5400] ! Unable to start worker', "[5400] config.ru:1:in 'block in <main>'"],
        'kept as evidence',
      )
      assert.equal(outcome.summary, 'Phased restart finished in 0.50 s: phase 2, 3/3 workers booted')
    })

    it('a suspect, then its Early termination, then the new worker boots: done, and the termination is no silent failure', () => {
      const state = play(plan({workers: 1, oldWorkers: [{index: 0, pid: 7018}]}), [
        [100, log.phaseStart(2)],
        ...suspectSteps(110, 5400),
        [113, log.bootError(5400)], // the same process again: a repeated line, not another attempt
        [300, log.booted(0, 8001, 2)],
      ])
      assert.deepEqual(state.earlyTerminations, [])
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'done')
      assert.equal(outcome.exitCode, EXIT.ok)
      assert.deepEqual(outcome.workers, [{index: 0, oldPid: 7018, newPid: 8001, bootSeconds: 0.01}])
    })

    it("a boot line while the suspect's lines are being collected counts, and the lines after it are still collected", () => {
      const p = plan({workers: 2, oldWorkers: plan().oldWorkers.slice(0, 2)})
      const collecting = play(p, [
        [100, log.phaseStart(2)],
        [110, log.bootError(5400)],
        [111, log.booted(0, 8001, 2)],
      ])
      assert.equal(collecting.booted.length, 1, 'the boot line was not swallowed')
      assert.equal(collecting.notices[0]?.kind, 'worker-booted')
      const state = play(
        p,
        [
          [112, log.other('boom: simulated boot failure', 5400)],
          [112, log.other("    config.ru:1:in 'block in <main>'")],
          [113, log.earlyTermination(5400)],
          [400, log.booted(1, 8002, 2)],
        ],
        collecting,
      )
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'done')
      assert.deepEqual(
        outcome.workers.map((w) => [w.index, w.newPid]),
        [
          [0, 8001],
          [1, 8002],
        ],
      )
      assert.deepEqual(outcome.errorLines, [
        '[5400] ! Unable to start worker',
        '[5400] boom: simulated boot failure',
        "    config.ru:1:in 'block in <main>'",
      ])
    })

    it('a second failure, from another pid, is real: worker-failed, exit 5, naming the failing index', () => {
      const p = plan()
      const suspect = play(p, [[100, log.phaseStart(2)], [200, log.booted(0, 8001, 2)], ...suspectSteps(300, 6001)])
      assert.equal(suspect.status, 'restarting')
      const state = play(p, [...suspectSteps(310, 6002), [320, log.booted(1, 8002, 2)]], suspect)
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'worker-failed')
      assert.equal(outcome.exitCode, EXIT.workerFailed)
      assert.deepEqual(outcome.failure, {cause: 'boot-error', index: 1, pid: 6002})
      assert.deepEqual(outcome.errorLines, [...suspectLines(6001), ...suspectLines(6002)], 'both attempts, in order')
      assert.deepEqual(
        outcome.workers.map((w) => w.newPid),
        [8001],
        'the failure ended it before the boot line',
      )
      assert.equal(
        outcome.summary,
        'Worker 1 failed to boot in phase 2 (1 of 3 workers runs phase 2 and 1 still runs phase 1; Puma keeps retrying worker 1)',
      )
    })
  })

  describe('master exit', () => {
    it("Puma 6.4+'s idle_timeout: the master's own line says why it stopped (a stop, not a crash); exit 7 all the same", () => {
      const idle: LogEvent = {
        kind: 'idle-stop',
        prefixPid: MASTER,
        line: `[${MASTER}] - All workers reached idle timeout`,
      }
      const state = play(plan(), [
        [100, log.phaseStart(2)],
        [500, idle],
        [600, 'master-exited'],
      ])
      const outcome = outcomeOf(state)
      assert.equal(outcome.exitCode, EXIT.masterDied)
      assert.equal(
        outcome.summary,
        `The master (pid ${MASTER}) stopped on its own after "- All workers reached idle timeout": Puma's idle_timeout, a stop, not a crash; the server is down until something starts it`,
      )
    })

    it("an idle line without the master's prefix (app output) does not explain the master's exit", () => {
      const forged: LogEvent = {kind: 'idle-stop', line: '- All workers reached idle timeout'}
      const state = play(plan(), [
        [100, log.phaseStart(2)],
        [500, forged],
        [600, 'master-exited'],
      ])
      assert.match(outcomeOf(state).summary, /^The master \(pid 7013\) exited during the restart/)
    })

    it("Puma 6.4.1 as PID 1 reaping another process's child is no worker failure", () => {
      const reaped = log.other('! reaped unknown child process pid=4242 status=pid 4242 exit 1', MASTER)
      const state = play(plan(), [
        [100, log.phaseStart(2)],
        [200, reaped],
      ])
      assert.equal(state.status, 'restarting')
      assert.deepEqual(state.errorLines, [])
      assert.deepEqual(state.notices, [])
    })

    it('ends as master-died with the app-load-error lines (preload hot restart)', () => {
      const state = play(plan(), [
        [50, log.fallback()],
        [60, log.hotRestart()],
        [700, log.appLoadError('RuntimeError: boom: simulated boot failure')],
        [701, log.other("\tfrom config.ru:3:in 'block in <main>'")],
        [702, log.other('unrelated app output')],
        [703, log.other('    not part of the error any more')],
        [800, 'master-exited'],
      ])
      const outcome = outcomeOf(state)
      assert.equal(outcome.outcome, 'master-died')
      assert.equal(outcome.exitCode, EXIT.masterDied)
      assert.equal(outcome.durationMs, 800)
      assert.deepEqual(outcome.errorLines, [
        '[7013] ! Unable to load application: RuntimeError: boom: simulated boot failure',
        "\tfrom config.ru:3:in 'block in <main>'",
      ])
      assert.equal(
        outcome.summary,
        'The master (pid 7013) exited after "! Unable to load application: RuntimeError: boom: simulated boot failure": ' +
          'the server is down, and its pidfile may be stale',
      )
      assert.equal(outcome.warnings.length, 1)
    })

    it('ends as master-died at any time, even while reading a worker error', () => {
      const cases: Array<[string, Step[]]> = [
        ['before the restart started', []],
        ['during a phased restart', [[100, log.phaseStart(2)]]],
        [
          'while a worker is failing',
          [
            [100, log.phaseStart(2)],
            [150, log.bootError(4)],
            [200, log.bootError(5)],
          ],
        ],
        [
          'after a suspect boot failure',
          [
            [100, log.phaseStart(2)],
            [150, log.bootError(4)],
          ],
        ],
      ]
      for (const [name, steps] of cases) {
        const outcome = outcomeOf(play(plan(), [...steps, [900, 'master-exited']]))
        assert.equal(outcome.outcome, 'master-died', name)
        assert.equal(outcome.exitCode, EXIT.masterDied, name)
      }

      assert.equal(
        outcomeOf(
          play(plan(), [
            [100, log.phaseStart(2)],
            [900, 'master-exited'],
          ]),
        ).summary,
        'The master (pid 7013) exited during the restart: the server is down',
      )
    })
  })

  describe('timeout', () => {
    it('lists the workers still on the old phase and the one being replaced', () => {
      const p = plan()
      const steps: Step[] = [
        [100, log.phaseStart(2)],
        [200, log.stopping(7018)],
        [1200, log.booted(0, 7150, 2)],
        [1300, log.stopping(7019)],
        [1400, log.earlyTermination(7301)],
        [59_999, 'tick'],
      ]
      const waiting = play(p, steps)
      assert.equal(waiting.outcome, undefined)
      const outcome = outcomeOf(play(p, [[60_000, 'tick']], waiting))
      assert.equal(outcome.outcome, 'timed-out')
      assert.equal(outcome.exitCode, EXIT.timedOut)
      assert.equal(outcome.started, true)
      assert.equal(outcome.phase, 2)
      assert.deepEqual(outcome.pending, [
        {index: 1, oldPid: 7019, stopped: true},
        {index: 2, oldPid: 7020, stopped: false},
      ])
      assert.deepEqual(outcome.errorLines, ['[7301] Early termination of worker'])
      assert.equal(
        outcome.summary,
        'Timed out after 60 s in phase 2: 1/3 workers booted; still on phase 1: worker 2 (pid 7020); ' +
          'stopped, replacement not booted: worker 1 (pid 7019); ' +
          '1 new worker ended while booting ("Early termination of worker"; Puma before 5.3.2 logs no reason)',
      )
    })

    const neverStarted: Array<{name: string; plan: RestartPlan; steps: Step[]; summary: string}> = [
      {
        name: 'phased: no phase line',
        plan: plan(),
        steps: [],
        summary:
          'Puma never started the restart: no "Starting phased worker restart" line within 60 s. The USR1 may not have reached ' +
          "Puma's restart code (a stuck master, USR1 not trapped (JRuby), or Puma logs somewhere else than the log being followed)",
      },
      {
        name: 'hot: no restart marker',
        plan: plan({kind: 'hot'}),
        steps: [],
        summary:
          'Puma never started the restart: no "* Restarting..." line within 60 s. The USR2 may not have reached ' +
          "Puma's restart code (a stuck master, PUMA_SKIP_SIGUSR2 set, or Puma logs somewhere else than the log being followed)",
      },
      {
        name: 'Puma 2.2–2.3: phased restart unavailable and ignored',
        plan: plan(),
        steps: [[100, log.fallback()]],
        summary:
          'Puma said a phased restart is unavailable and did not restart within 60 s (Puma 2.2–2.3 ignores USR1 with preload_app: use a hot restart)',
      },
    ]
    for (const c of neverStarted) {
      it(`says the restart never started: ${c.name}`, () => {
        const outcome = outcomeOf(play(c.plan, [...c.steps, [30_000, 'tick'], [61_000, 'tick']]))
        assert.equal(outcome.outcome, 'timed-out')
        assert.equal(outcome.exitCode, EXIT.timedOut)
        assert.equal(outcome.started, false)
        assert.equal(outcome.phase, undefined)
        assert.equal(outcome.durationMs, 61_000)
        assert.equal(outcome.summary, c.summary)
        assert.equal(outcome.pending.length, 3, 'every old worker is still there')
      })
    }

    it('single-mode hot restart that never becomes ready', () => {
      const p = plan({kind: 'hot', mode: 'single', workers: 0, oldWorkers: []})
      const outcome = outcomeOf(
        play(p, [
          [100, log.hotRestart(undefined)],
          [60_000, 'tick'],
        ]),
      )
      assert.equal(
        outcome.summary,
        'Timed out after 60 s: Puma restarted (single mode) but never printed "Use Ctrl-C to stop"; the app may still be loading, or hang',
      )
    })
  })

  describe('what is not this restart', () => {
    const ignored: Array<[string, LogEvent, number?]> = [
      ['a line read before the signal', log.phaseStart(2), -1],
      ['another master', log.phaseStart(2, false, 4242)],
      ['a phase from an earlier restart', log.phaseStart(1)],
      ['a fallback from another master', log.fallback(4242)],
      ['a restart marker from another master', log.hotRestart(4242)],
    ]
    for (const [name, event, offset] of ignored) {
      it(`ignores ${name}`, () => {
        const state = play(plan(), [[offset ?? 100, event]])
        assert.equal(state.status, 'waiting')
        assert.equal(state.kind, 'phased')
        assert.deepEqual(state.notices, [])
      })
    }

    it('ignores boot lines and failures from another master, and failures before the restart started', () => {
      const state = play(plan(), [
        [10, log.bootError(5)],
        [20, log.timedOut(6, 'boot')],
        [30, log.earlyTermination(7)],
        [40, log.earlyTermination(8)],
        [50, log.earlyTermination(9)],
        [100, log.phaseStart(2)],
        [200, log.booted(0, 1, 2, {pid: 4242})],
        [200, log.booted(1, 2, 2, {pid: 4242})],
        [200, log.booted(2, 3, 2, {pid: 4242})],
      ])
      assert.equal(state.status, 'restarting')
      assert.deepEqual(state.booted, [])
    })

    it('changes nothing once there is an outcome', () => {
      const p = plan({workers: 1, oldWorkers: [{index: 0, pid: 7018}]})
      const done = play(p, [
        [100, log.phaseStart(2)],
        [200, log.booted(0, 9, 2)],
      ])
      const after = play(
        p,
        [
          [300, 'master-exited'],
          [70_000, 'tick'],
          [70_001, log.bootError(3)],
        ],
        done,
      )
      assert.equal(after.outcome, done.outcome)
      assert.deepEqual(after.notices, [])
    })
  })

  it('maps every result to its exit code', () => {
    const cases: Array<[Step[], string, number]> = [
      [
        [
          [1, log.phaseStart(2)],
          [2, log.booted(0, 1, 2)],
          [3, log.booted(1, 2, 2)],
          [4, log.booted(2, 3, 2)],
        ],
        'done',
        EXIT.ok,
      ],
      [
        [
          [1, log.phaseStart(2)],
          [2, log.timedOut(1, 'boot')],
        ],
        'worker-failed',
        EXIT.workerFailed,
      ],
      [[[60_000, 'tick']], 'timed-out', EXIT.timedOut],
      [[[1, 'master-exited']], 'master-died', EXIT.masterDied],
    ]
    for (const [steps, result, exitCode] of cases) {
      const outcome = outcomeOf(play(plan(), steps))
      assert.deepEqual([outcome.outcome, outcome.exitCode], [result, exitCode])
    }
  })
})
