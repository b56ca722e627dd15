/* eslint-disable camelcase -- RawStats spells Puma's own /stats keys */
import {strict as assert} from 'node:assert'

import {statsConfirm, statsEvents} from '../../src/control/stats-events.js'
import {normalizeStats, type PumaStats, type RawStats, unsettled} from '../../src/control/stats.js'

const MASTER = 7013

/** A cluster /stats answer: workers as [index, pid, phase, booted]. */
function stats(
  phase: number,
  workers: Array<[number, number, number, boolean]>,
  startedAt = '2026-11-24T12:00:00Z',
  oldWorkers = 0,
): PumaStats {
  const raw: RawStats = {
    started_at: startedAt,
    workers: workers.length,
    phase,
    booted_workers: workers.filter((worker) => worker[3]).length,
    old_workers: oldWorkers,
    worker_status: workers.map(([index, pid, workerPhase, booted]) => ({
      index,
      pid,
      phase: workerPhase,
      booted,
      last_checkin: '2026-11-24T12:00:05Z',
      last_status: {},
    })),
  }
  return normalizeStats(raw, Date.parse('2026-11-24T12:00:10Z'))
}

const kinds = (events: ReturnType<typeof statsEvents>) =>
  events.map((e) => `${e.kind}${'phase' in e ? `:${e.phase}` : ''}${'workerPid' in e ? `:${e.workerPid}` : ''}`)

describe('/stats changes as restart events', () => {
  it('normalizes Puma 5.6 /stats, with check-in ages from the given clock', () => {
    const s = stats(0, [[0, 100, 0, true]])
    assert.equal(s.mode, 'cluster')
    assert.equal(s.workerStatus[0].checkinAgeSeconds, 5)
    assert.equal(normalizeStats({backlog: 0, running: 1, max_threads: 5}).mode, 'single')
  })

  it('a phased restart: phase start, then each worker booting in the new phase', () => {
    const before = stats(0, [
      [0, 100, 0, true],
      [1, 101, 0, true],
    ])
    const starting = stats(
      1,
      [
        [0, 200, 1, false],
        [1, 101, 0, true],
      ],
      undefined,
      1,
    )
    const halfway = stats(
      1,
      [
        [0, 200, 1, true],
        [1, 101, 0, true],
      ],
      undefined,
      1,
    ) // worker 1 still old
    const done = stats(1, [
      [0, 200, 1, true],
      [1, 201, 1, true],
    ])
    assert.deepEqual(kinds(statsEvents(before, starting, MASTER)), ['phase-start:1'])
    assert.deepEqual(kinds(statsEvents(starting, halfway, MASTER, {origin: before})), ['worker-booted:1:200'])
    assert.deepEqual(kinds(statsEvents(halfway, done, MASTER, {origin: before})), ['worker-booted:1:201'])
    assert.equal(statsConfirm(done, 1), undefined)
    assert.match(statsConfirm(halfway, 1)!, /phase 1, 2\/2 booted, 1 old/)
  })

  it('a crash loop: an unbooted worker whose PID vanished is an early termination', () => {
    const a = stats(
      1,
      [
        [0, 300, 1, false],
        [1, 101, 0, true],
      ],
      undefined,
      1,
    )
    const b = stats(
      1,
      [
        [0, 301, 1, false],
        [1, 101, 0, true],
      ],
      undefined,
      1,
    )
    const events = statsEvents(a, b, MASTER, {origin: undefined})
    assert.deepEqual(kinds(events), ['worker-early-termination'])
    assert.equal(events[0].prefixPid, 300)
    assert.match(
      unsettled(a, b)!,
      /phase 1; workers run phases 0 and 1; 1 old worker\(s\) left; worker 0 not booted and crash-looping \(pid 300, then 301\)/,
    )
  })

  it('a hot restart told by a new started_at: marker, then the new workers', () => {
    const before = stats(3, [
      [0, 100, 3, true],
      [1, 101, 3, true],
    ])
    const after = stats(
      0,
      [
        [0, 400, 0, true],
        [1, 401, 0, false],
      ],
      '2026-11-24T12:05:00Z',
    )
    assert.deepEqual(kinds(statsEvents(before, after, MASTER)), ['hot-restart', 'worker-booted:0:400'])
  })

  it('a hot restart within the same second as the start: every worker new at once, same phase', () => {
    const before = stats(0, [
      [0, 100, 0, true],
      [1, 101, 0, true],
    ])
    const draining = stats(0, []) // the master stopped its workers before exec
    const after = stats(0, [
      [0, 400, 0, true],
      [1, 401, 0, true],
    ])
    assert.deepEqual(kinds(statsEvents(before, draining, MASTER)), [])
    assert.deepEqual(kinds(statsEvents(draining, after, MASTER, {origin: before})), [
      'hot-restart',
      'worker-booted:0:400',
      'worker-booted:0:401',
    ])
  })

  it('a settled cluster is not reported as in progress', () => {
    assert.equal(
      unsettled(
        stats(2, [
          [0, 100, 2, true],
          [1, 101, 2, true],
        ]),
      ),
      undefined,
    )
  })
})
