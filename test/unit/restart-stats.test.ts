import {strict as assert} from 'node:assert'

import {type PumaStats} from '../../src/control/stats.js'
import {EXIT} from '../../src/errors.js'
import {CONTROL, fromMaster, OLD_PID, replaced, RestartWorld} from '../helpers/restart-world.js'

/** A cluster's /stats: workers as [pid, phase, booted]. */
function stats(phase: number, workers: Array<[number, number, boolean]>, oldWorkers = 0): PumaStats {
  return {
    mode: 'cluster',
    startedAt: '2026-11-24T12:00:00Z',
    phase,
    workers: workers.length,
    bootedWorkers: workers.filter((worker) => worker[2]).length,
    oldWorkers,
    workerStatus: workers.map(([pid, workerPhase, booted], index) => ({index, pid, phase: workerPhase, booted})),
  }
}

describe('a whole restart with /stats', () => {
  let world: RestartWorld

  afterEach(() => world.cleanUp())

  it('no log to follow: /stats changes are the events, asked again 100 ms after each change', async () => {
    let answer = stats(0, [
      [OLD_PID, 0, true],
      [OLD_PID + 1, 0, true],
    ])
    world = new RestartWorld({workers: 2, withLog: false, stats: () => answer})
    const run = world.run({control: CONTROL})
    const start = await world.sent
    assert.deepEqual(start.logs, [])
    assert.equal(start.stats, true)
    assert.deepEqual(world.followed, [])
    answer = stats(1, [
      [3000, 1, true],
      [OLD_PID + 1, 0, true],
    ])
    await world.advance(100)
    assert.equal(world.states.at(-1)?.status, 'restarting')
    answer = stats(1, [
      [3000, 1, true],
      [3001, 1, true],
    ])
    await world.advance(100)
    const report = run.report()
    assert.equal(report.phase, 1)
    assert.deepEqual(report.logs, [])
    assert.deepEqual(world.statsAsked.slice(0, 3), [
      world.clock.now() - 200,
      world.clock.now() - 100,
      world.clock.now(),
    ])
    assert.equal(world.clock.pending, 0, 'no poll left behind')
  })

  it('while /stats does not change it is asked less often, down to once a second (Puma 7 resets backlog_max at each call)', async () => {
    let answer = stats(0, [[OLD_PID, 0, true]])
    world = new RestartWorld({workers: 1, withLog: false, stats: () => answer})
    const run = world.run({control: CONTROL, timeoutMs: 60_000})
    await world.sent
    const askedBefore = world.statsAsked.length
    await world.advance(10_000)
    const quiet = world.statsAsked.slice(askedBefore)
    assert.equal(quiet.length, 13, 'not 100 as at a fixed 100 ms')
    assert.equal(quiet.at(-1)! - quiet.at(-2)!, 1000)
    answer = stats(1, [[3000, 1, false]])
    await world.advance(1000)
    const [changeSeen, next] = world.statsAsked.slice(askedBefore + quiet.length)
    assert.equal(next - changeSeen, 100, 'quick again once something changed')
    answer = stats(1, [[3000, 1, true]])
    await world.advance(1000)
    assert.equal(run.report().phase, 1)
  })

  /**
   * A one-worker phased restart whose log says done while /stats still counts the old worker;
   * `agree()` makes /stats answer that the restart is complete from then on.
   */
  async function logDoneStatsBehind(overrides: {timeoutMs?: number} = {}) {
    let answer = stats(0, [[OLD_PID, 0, true]])
    world = new RestartWorld({workers: 1, stats: () => answer})
    const run = world.run({control: CONTROL, ...overrides})
    const start = await world.sent
    answer = stats(1, [[3000, 1, true]], 1) // an old worker still counted
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'), ...replaced(0))
    const agree = () => {
      answer = stats(1, [[3000, 1, true]])
    }

    return {agree, run, start}
  }

  it('the log says done but /stats disagrees until the deadline: exit 6, quoting /stats', async () => {
    const {run, start} = await logDoneStatsBehind({timeoutMs: 1000})
    assert.equal(start.stats, true, '/stats confirms the end')
    await world.advance(999)
    assert.equal(run.settled.status, 'pending')
    await world.advance(100)
    const error = run.error(EXIT.timedOut)
    assert.equal(
      error.message,
      'the log showed the restart done, but /stats shows phase 1, 1/1 booted, 1 old (after 1 s)',
    )
    world.assertCleanedUp()
  })

  it('the log says done and /stats agrees a moment later: exit 0', async () => {
    const {agree, run} = await logDoneStatsBehind()
    await world.advance(100)
    assert.equal(run.settled.status, 'pending')
    agree()
    await world.advance(150) // /stats is asked less often while it does not change
    assert.equal(run.report().outcome, 'done')
    world.assertCleanedUp()
  })

  it('Ctrl-C while /stats still disagrees: exit 130, saying what /stats showed', async () => {
    const {run} = await logDoneStatsBehind()
    await world.advance(50)
    world.controller.abort()
    await world.advance(0)
    const error = run.error(EXIT.interrupted)
    assert.equal(
      error.message,
      'interrupted while waiting: the log showed the restart done; /stats shows phase 1, 1/1 booted, 1 old; nothing more was sent to Puma',
    )
    world.assertCleanedUp()
  })
})
