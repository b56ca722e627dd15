import {strict as assert} from 'node:assert'

import {ndjsonView} from '../../src/render/restart-ndjson.js'
import {updatesWorthTelling} from '../../src/restart/api.js'
import {fromMaster, MASTER, NEW_PID, OLD_PID, replaced, RestartWorld} from '../helpers/restart-world.js'

const AT = '2026-11-29T19:30:00.000Z'

/** The stream a view writes to: every write, as written. */
class Collector {
  readonly writes: string[] = []

  get events(): Array<Record<string, unknown>> {
    return this.writes.map((text) => JSON.parse(text) as Record<string, unknown>)
  }

  write(text: string): boolean {
    this.writes.push(text)
    return true
  }
}

/** Plays what a world's restart told (its start, then every state) into an --ndjson view, as the command does. */
async function streamOf(world: RestartWorld): Promise<Collector> {
  const out = new Collector()
  const view = ndjsonView(out, () => new Date(AT))
  view.started(await world.sent)
  const tell = updatesWorthTelling((event) => event.type === 'update' && view.update(event), {stops: true})
  for (const state of world.states) tell(state)
  return out
}

/** A worker that fails to boot, as Puma 5.6 tells it. */
const bootFailure = (pid: number) => [
  `[${pid}] ! Unable to start worker`,
  `[${pid}] config.ru:1:in \`block in <main>'`,
  `[${pid}] Early termination of worker`,
]

/** The world has no kernel to ask, which the pre-flight warns about first. */
const NO_KERNEL_WARNING = {event: 'warning', message: /the kernel shows nothing of master/}

const withoutAt = (events: Array<Record<string, unknown>>) => events.map(({at: _at, ...rest}) => rest)

describe('render/restart-ndjson', () => {
  let world: RestartWorld

  afterEach(() => world.cleanUp())

  it('a phased restart: sent, the phase, then each worker stopping and booted, one JSON line each', async () => {
    world = new RestartWorld()
    const run = world.run()
    await world.sent
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'))
    await world.write(...replaced(0), ...replaced(1), ...replaced(2))
    assert.equal(run.report().outcome, 'done')

    const out = await streamOf(world)
    assert.ok(
      out.writes.every((text) => text.endsWith('\n') && !text.slice(0, -1).includes('\n')),
      'one line per event',
    )
    assert.ok(
      out.events.every((event) => event.at === AT),
      'every event says when',
    )
    const [warning, ...events] = out.events
    assert.match(String(warning.message), NO_KERNEL_WARNING.message)
    assert.deepEqual(withoutAt(events), [
      {event: 'sent', signal: 'SIGUSR1', via: 'signal', pid: MASTER},
      {event: 'phase-started', restart: 'phased', phase: 1, message: events[1].message},
      ...[0, 1, 2].flatMap((index) => [
        {event: 'worker-stopping', pid: OLD_PID + index},
        {event: 'worker-booted', index, pid: NEW_PID + index, oldPid: OLD_PID + index, bootSeconds: 0.5},
      ]),
    ])
    // Deploy tools may read the lines with a regex: the keys come in one order, `event` first and `at` last.
    assert.deepEqual(Object.keys(events[0]), ['event', 'signal', 'via', 'pid', 'at'])
    assert.deepEqual(Object.keys(events[3]), ['event', 'index', 'pid', 'oldPid', 'bootSeconds', 'at'])
  })

  it('a hot restart tells the boot check that passed before the signal', async () => {
    world = new RestartWorld()
    const run = world.run({kind: 'hot'})
    await world.sent
    const out = await streamOf(world)
    assert.deepEqual(withoutAt(out.events.slice(1)), [
      {event: 'check', how: 'puma', durationMs: 1200, folder: world.dir},
      {event: 'sent', signal: 'SIGUSR2', via: 'signal', pid: MASTER},
    ])
    assert.equal(out.events[0].event, NO_KERNEL_WARNING.event)
    world.controller.abort()
    await run.finished()
  })

  it('ctl start: the master it spawned, instead of a signal sent', () => {
    world = new RestartWorld()
    const out = new Collector()
    ndjsonView(out, () => new Date(AT)).started({
      headline: 'Started Puma (pid 4242, bin/puma): bin/puma; following log/puma.log',
      sent: 'start',
      via: 'signal',
      warnings: [],
      logs: [{path: '/srv/app/log/puma.log'}],
      pid: 4242,
      preflight: {logAttributable: true, mode: 'single', warnings: [], workers: []},
      stats: false,
    })
    assert.deepEqual(out.events, [{event: 'started', pid: 4242, at: AT}])
  })

  it('a worker that fails to boot: a failure event quoting it', async () => {
    world = new RestartWorld()
    const run = world.run()
    await world.sent
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'), ...replaced(0).slice(0, 2))
    await world.write(...bootFailure(3100))
    await world.advance(20)
    await world.write(...bootFailure(3102))
    await run.finished()

    const {events} = await streamOf(world)
    const failures = events.filter((event) => event.event === 'failure')
    assert.ok(failures.length > 0, JSON.stringify(events))
    assert.match(String(failures.at(-1)?.message), /worker 0/i)
    assert.deepEqual(Object.keys(failures[0]), ['event', 'message', 'at'])
  })

  it(String.raw`tells a stopping worker once, and prints control characters from the log as \xNN`, () => {
    world = new RestartWorld()
    const out = new Collector()
    const view = ndjsonView(out, () => new Date(AT))
    const progress = {booted: 0, elapsedMs: 0, expected: 1, label: '', restart: 'phased', status: 'restarting'} as const
    view.update({type: 'update', stopping: [2000], notices: [], progress})
    view.update({
      type: 'update',
      stopping: [2000],
      notices: [{kind: 'warning', message: 'evil \u001B[2K line'}],
      progress,
    })
    assert.deepEqual(withoutAt(out.events), [
      {event: 'worker-stopping', pid: 2000},
      {event: 'warning', message: String.raw`evil \x1b[2K line`},
    ])
    assert.ok(!out.writes.join('').includes('\u001B'))
  })
})
