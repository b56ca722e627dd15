import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {statsEvents} from '../../src/control/stats-events.js'
import {type PumaStats} from '../../src/control/stats.js'
import {parseLine} from '../../src/log/parse.js'
import {appendError} from '../../src/restart/failure-rules.js'
import {
  FAILURE_DETAIL_GRACE_MS,
  initialState,
  type Notice,
  reduce,
  type RestartPlan,
  type RestartState,
} from '../../src/restart/machine.js'
import {fixturePlan, T0} from '../helpers/fixture-plan.js'
import {fixturesDir} from '../helpers/paths.js'

const plan = fixturePlan

/** A fixture log fed line by line (1 ms apart), then the failure grace: the state and every notice told. */
function replay(file: string, overrides: Partial<RestartPlan> = {}): {notices: Notice[]; state: RestartState} {
  const lines = readFileSync(join(fixturesDir, 'logs', file), 'utf8')
    .split('\n')
    .filter(Boolean)
  let state = initialState(plan(overrides))
  const notices: Notice[] = []
  for (const [i, line] of lines.entries()) {
    state = reduce(state, {type: 'log', at: T0 + i + 1, event: parseLine(line)})
    notices.push(...state.notices)
  }

  state = reduce(state, {type: 'tick', at: T0 + lines.length + FAILURE_DETAIL_GRACE_MS + 1})
  return {state, notices}
}

const errorNotices = (notices: Notice[]) => notices.filter((n) => n.kind === 'error').map((n) => n.message)

const STATS_MASTER = 4100

/** /stats in a phased restart to phase 1 whose worker 0 never boots (pid: this attempt's); worker 1 still serves phase 0. */
const sample = (pid: number): PumaStats => ({
  mode: 'cluster',
  phase: 1,
  workers: 2,
  workerStatus: [
    {index: 0, pid, phase: 1, booted: false},
    {index: 1, pid: 5001, phase: 0, booted: true},
  ],
})

/** Worker 0 boots slowly (unbooted, same PID) while worker 1 is a new process with `pid`. */
const slowZero = (pid: number): PumaStats => ({
  mode: 'cluster',
  phase: 1,
  workers: 2,
  workerStatus: [
    {index: 0, pid: 7000, phase: 1, booted: false},
    {index: 1, pid, phase: 1, booted: false},
  ],
})

/** /stats answers in a row, told to the machine as stats-events.ts tells them. */
function pollStats(samples: PumaStats[]): {notices: Notice[]; state: RestartState} {
  let state = initialState(
    plan({
      masterPid: STATS_MASTER,
      oldWorkers: [
        {index: 0, pid: 5000},
        {index: 1, pid: 5001},
      ],
    }),
  )
  const notices: Notice[] = []
  const first: PumaStats = {
    mode: 'cluster',
    phase: 0,
    workers: 2,
    workerStatus: [
      {index: 0, pid: 5000, phase: 0, booted: true},
      {index: 1, pid: 5001, phase: 0, booted: true},
    ],
  }
  let previous: PumaStats = first
  for (const [i, now] of samples.entries()) {
    for (const event of statsEvents(previous, now, STATS_MASTER, {origin: first})) {
      state = reduce(state, {type: 'log', at: T0 + (i + 1) * 100, event})
      notices.push(...state.notices)
    }

    previous = now
  }

  return {state, notices}
}

describe('the failure headline and excerpt', () => {
  it("Puma 6.0+: the summary and the notice quote the exception's message, not `! Unable to start worker`", () => {
    const {notices, state} = replay('puma-6.0-boot-failure.log', {version: '6.0.0'})
    assert.equal(state.outcome?.outcome, 'worker-failed')
    assert.equal(
      state.outcome?.summary,
      'Worker 0 failed to boot in phase 1: boom: simulated boot failure (1 of 2 workers still runs phase 0; Puma keeps retrying worker 0)',
    )
    assert.deepEqual(errorNotices(notices), ['Worker 0 failed to boot: boom: simulated boot failure'])
  })

  it('the same shape with no version known (only a control URL): the summary quotes the message all the same', () => {
    const {notices, state} = replay('puma-6.0-boot-failure.log')
    assert.match(state.outcome!.summary, /^Worker 0 failed to boot in phase 1: boom: simulated boot failure \(/)
    assert.deepEqual(errorNotices(notices), ['Worker 0 failed to boot: ! Unable to start worker'])
  })

  it("Puma 5.3.2–5.6 logs a backtrace frame after `! Unable to start worker`: no message to quote, today's text", () => {
    const p = {
      masterPid: 8498,
      oldWorkers: [
        {index: 0, pid: 8524},
        {index: 1, pid: 8526},
      ],
      version: '5.6.5',
    }
    const {notices, state} = replay('puma-5.6-phased-boot-failure.log', p)
    assert.match(state.outcome!.summary, /^Worker 0 failed to boot in phase 1 \(/)
    assert.deepEqual(errorNotices(notices), ['Worker 0 failed to boot: ! Unable to start worker'])
  })

  it('Puma 6.0+ where the line after the boot error is a backtrace frame: the notice quotes the boot error', () => {
    let state = initialState(plan({version: '6.6.1'}))
    const notices: Notice[] = []
    const lines = [
      '[21500] - Starting phased worker restart, phase: 1',
      '[21540] ! Unable to start worker',
      '[21540] Early termination of worker',
      '[21544] ! Unable to start worker',
      "[21544] config.ru:2:in 'block in <main>'",
    ]
    for (const [i, line] of lines.entries()) {
      state = reduce(state, {type: 'log', at: T0 + i + 1, event: parseLine(line)})
      notices.push(...state.notices)
    }

    assert.deepEqual(errorNotices(notices), ['Worker 0 failed to boot: ! Unable to start worker'])
  })

  it("two workers' error lines that interleave are kept grouped per PID, continuation lines with their worker", () => {
    let state: RestartState = {...initialState(plan()), collecting: {from: 'worker', pid: 31}}
    const interleaved = [
      '[31] ! Unable to start worker',
      '[32] ! Unable to start worker',
      '[31] boom: broken release',
      "[31] config.ru:2:in 'block in <main>'",
      "    /srv/gems/puma/rack/builder.rb:116:in 'eval'",
      '[32] boom: broken release',
      '[31] Early termination of worker',
    ]
    for (const line of interleaved) state = appendError(state, line)
    assert.deepEqual(state.errorLines, [
      '[31] ! Unable to start worker',
      '[31] boom: broken release',
      "[31] config.ru:2:in 'block in <main>'",
      "    /srv/gems/puma/rack/builder.rb:116:in 'eval'",
      '[31] Early termination of worker',
      '[32] ! Unable to start worker',
      '[32] boom: broken release',
    ])
  })

  describe('failures seen through /stats only (no log)', () => {
    it('a crash loop: says what /stats showed, not "no reason logged" nor "Early termination of worker"', () => {
      const {notices, state} = pollStats([sample(6001), sample(6002), sample(6003), sample(6004)])
      const {summary} = state.outcome!
      assert.equal(state.outcome?.outcome, 'worker-failed')
      assert.equal(
        summary,
        'New workers keep ending before they boot in phase 1, as /stats shows (no log was read): worker 0 (pid 6001, 6002, 6003) ended before it booted, 3 times (1 of 2 workers still runs phase 0; Puma keeps retrying worker 0)',
      )
      assert.doesNotMatch(summary, /no reason logged|Early termination of worker/)
      assert.deepEqual(errorNotices(notices), [
        'new worker 0 (pid 6001) ended before it booted (as /stats shows)',
        'new worker 0 (pid 6002) ended before it booted (as /stats shows)',
        'new worker 0 (pid 6003) ended before it booted (as /stats shows)',
      ])
    })

    it('names the worker /stats shows ending, not the lowest index still to boot', () => {
      // Worker 0 boots slowly (unbooted, same PID) while worker 1's new processes keep ending.
      const {state} = pollStats([slowZero(6001), slowZero(6002), slowZero(6003), slowZero(6004)])
      assert.equal(state.outcome?.outcome, 'worker-failed')
      assert.equal(state.outcome?.failure?.index, 1)
      assert.match(
        state.outcome!.summary,
        /: worker 1 \(pid 6001, 6002, 6003\) ended before it booted, 3 times \(.*Puma keeps retrying worker 1\)$/,
      )
    })

    it('at the deadline: the early terminations are what /stats showed', () => {
      let {state} = pollStats([sample(6001), sample(6002)])
      state = reduce(state, {type: 'tick', at: T0 + 60_000})
      assert.equal(state.outcome?.outcome, 'timed-out')
      assert.match(state.outcome!.summary, /1 new worker ended before booting, as \/stats showed \(no log was read\)$/)
    })
  })
})
