import {strict as assert} from 'node:assert'
import {appendFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {EXIT, notPermittedError} from '../../src/errors.js'
import {CONTROL, fromMaster, NEW_PID, OLD_PID, realLog, replaced, RestartWorld} from '../helpers/restart-world.js'

const TIMEOUT_MS = 60_000
const BOOTED_RESTARTS_BANNER = '[1234] *     Restarts: (✔) hot (✔) phased\n'

/** A worker that fails to boot, as Puma 5.6 tells it (6+ adds the message and the whole backtrace). */
const bootFailure = (pid: number, early = true) => [
  `[${pid}] ! Unable to start worker`,
  `[${pid}] config.ru:1:in \`block in <main>'`,
  ...(early ? [`[${pid}] Early termination of worker`] : []),
]

const append = (path: string, lines: string[]) => appendFileSync(path, lines.map((line) => `${line}\n`).join(''))

describe('a whole restart through the orchestration, with every side effect faked', () => {
  let world: RestartWorld

  afterEach(() => world.cleanUp())

  it('phased restart, 3 workers: exit 0 the moment the last worker boots', async () => {
    world = new RestartWorld({logText: BOOTED_RESTARTS_BANNER})
    const run = world.run()
    const start = await world.sent
    assert.deepEqual(world.delivered, [{command: 'phased-restart', via: 'signal'}])
    assert.equal(start.sent, 'SIGUSR1')
    assert.deepEqual(start.logs, [{path: world.logPath}])
    await world.advance(100)
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1', `+ Changing to ${world.dir}`))
    assert.deepEqual(world.followed, [{path: world.logPath, from: {dev: 1, ino: 1, offset: 0}}])
    await world.advance(400)
    await world.write(...replaced(0))
    await world.advance(500)
    await world.write(...replaced(1))
    await world.advance(500)
    assert.equal(run.settled.status, 'pending')
    await world.write(...replaced(2))
    const report = run.report()
    assert.equal(report.outcome, 'done')
    assert.equal(report.exitCode, 0)
    assert.equal(report.phase, 1)
    assert.equal(report.restart, 'phased')
    assert.equal(report.durationMs, 1500)
    assert.deepEqual(report.logs, [world.logPath])
    assert.deepEqual(
      report.workers.map(({index, oldPid, newPid, bootSeconds}) => ({index, oldPid, newPid, bootSeconds})),
      [0, 1, 2].map((index) => ({index, oldPid: OLD_PID + index, newPid: NEW_PID + index, bootSeconds: 0.5})),
    )
    assert.equal(world.states.at(-1)?.outcome?.exitCode, 0)
    world.assertCleanedUp()
  })

  it('a worker that fails to boot: exit 5 with its error lines (the first failure is only a suspect)', async () => {
    world = new RestartWorld()
    const run = world.run()
    await world.sent
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'), ...replaced(0).slice(0, 2))
    await world.advance(50)
    await world.write(...bootFailure(3100))
    assert.equal(run.settled.status, 'pending', 'one failure may be the old code still crash-looping')
    await world.advance(20)
    await world.write(...bootFailure(3102))
    const error = run.error(EXIT.workerFailed)
    assert.match(error.message, /worker 0 .*failed to boot/i)
    assert.ok(error.details?.includes('[3102] ! Unable to start worker'), String(error.details))
    assert.equal((error.data as {outcome: string}).outcome, 'worker-failed')
    world.assertCleanedUp()
  })

  it("a failure whose Early termination never comes: its error lines are read for the machine's grace, then exit 5", async () => {
    world = new RestartWorld()
    const run = world.run()
    await world.sent
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'), ...bootFailure(3100))
    await world.write(...bootFailure(3102, false))
    await world.advance(249)
    assert.equal(run.settled.status, 'pending', 'within the grace: more error lines may come')
    await world.write("[3102] /srv/app/config.ru:1:in `new_from_string'")
    await world.advance(2)
    const error = run.error(EXIT.workerFailed)
    assert.ok(error.details?.some((line) => line.includes('new_from_string')))
    world.assertCleanedUp()
  })

  it('a worker that hangs while booting (Puma kills it at its boot timeout): exit 5, a hung boot', async () => {
    world = new RestartWorld()
    const run = world.run()
    await world.sent
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'), ...replaced(0).slice(0, 2))
    await world.advance(4000)
    await world.write(...fromMaster('! Terminating timed out worker (worker failed to boot within 4 seconds): 3100'))
    const error = run.error(EXIT.workerFailed)
    assert.deepEqual((error.data as {failure: unknown}).failure, {cause: 'hung-boot', index: 0, pid: 3100})
    world.assertCleanedUp()
  })

  it('nothing more after the first boot: exit 6 at the deadline, not before, listing the pending workers', async () => {
    world = new RestartWorld()
    const run = world.run({timeoutMs: TIMEOUT_MS})
    await world.sent
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'), ...replaced(0))
    await world.advance(TIMEOUT_MS - 1)
    assert.equal(run.settled.status, 'pending')
    await world.advance(2)
    const error = run.error(EXIT.timedOut)
    assert.match(error.message, /Timed out after 60 s/)
    const {pending} = error.data as {pending: Array<{index: number}>}
    assert.deepEqual(
      pending.map(({index}) => index),
      [1, 2],
    )
    world.assertCleanedUp()
  })

  it('the master dies mid-restart: exit 7 on the second poll that sees it gone', async () => {
    world = new RestartWorld()
    const run = world.run()
    await world.sent
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'))
    await world.advance(100)
    world.masterDead = true
    await world.advance(150) // the poll at 250 ms sees it gone first
    assert.equal(run.settled.status, 'pending', 'seen once: its last lines may still be on their way')
    await world.advance(250)
    const error = run.error(EXIT.masterDied)
    assert.match(error.message, /master .*(exited|died)/i)
    world.assertCleanedUp()
  })

  it('a master found dead when the machine wakes (its deadline) ended the restart: exit 7, not 6', async () => {
    world = new RestartWorld()
    const run = world.run({timeoutMs: 200})
    await world.sent
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'))
    world.masterDead = true
    await world.advance(201) // before the first liveness poll
    run.error(EXIT.masterDied)
  })

  it("hot restart of a preloaded broken release: the master's load error, then its death: exit 7 with the error", async () => {
    world = new RestartWorld({workers: 2})
    const run = world.run({kind: 'hot'})
    await world.sent
    assert.deepEqual(world.delivered, [{command: 'restart', via: 'signal'}])
    await world.write(
      ...fromMaster(
        '- Gracefully shutting down workers...',
        '* Restarting...',
        'Puma starting in cluster mode...',
        '* Preloading application',
        '! Unable to load application: RuntimeError: boom',
      ),
      "config.ru:1:in `block in <main>': boom (RuntimeError)",
    )
    world.masterDead = true
    await world.advance(500)
    const error = run.error(EXIT.masterDied)
    assert.ok(
      error.details?.some((line) => line.includes('Unable to load application')),
      String(error.details),
    )
  })

  it('hot restart: exit 0 once the new workers booted in phase 0', async () => {
    world = new RestartWorld({workers: 2})
    const run = world.run({kind: 'hot'})
    const start = await world.sent
    assert.equal(start.sent, 'SIGUSR2')
    await world.write(
      ...fromMaster(
        '- Gracefully shutting down workers...',
        '* Restarting...',
        'Puma starting in cluster mode...',
        '*      Workers: 2',
        '*     Restarts: (✔) hot (✔) phased',
        '* Inherited tcp://127.0.0.1:9292',
        'Use Ctrl-C to stop',
      ),
      '=== puma startup: 2026-11-24 12:20:15 +0000 ===',
    )
    await world.advance(800)
    await world.write(...fromMaster('- Worker 0 (PID: 3000) booted in 0.01s, phase: 0'))
    assert.equal(run.settled.status, 'pending')
    await world.write(...fromMaster('- Worker 1 (PID: 3001) booted in 0.01s, phase: 0'))
    const report = run.report()
    assert.equal(report.restart, 'hot')
    assert.equal(report.phase, 0)
    assert.deepEqual(
      report.workers.map((w) => w.newPid),
      [3000, 3001],
    )
  })

  it('phased restart of a preloading Puma: warned before the signal, then waits for the hot restart Puma does', async () => {
    world = new RestartWorld({
      workers: 2,
      logText:
        fromMaster(
          'Puma starting in cluster mode...',
          '*     Restarts: (✔) hot (✖) phased',
          '* Preloading application',
        ).join('\n') + '\n',
    })
    const run = world.run()
    const start = await world.sent
    assert.equal(start.preflight.phasedAvailable, false)
    assert.ok(start.preflight.warnings.some((warning) => /preloads the app/.test(warning)))
    await world.write(
      ...fromMaster(
        '* phased-restart called but not available, restarting normally.',
        '- Gracefully shutting down workers...',
        '* Restarting...',
        'Puma starting in cluster mode...',
        '*      Workers: 2',
        '* Preloading application',
        'Use Ctrl-C to stop',
        '- Worker 0 (PID: 3000) booted in 0.0s, phase: 0',
        '- Worker 1 (PID: 3001) booted in 0.0s, phase: 0',
      ),
    )
    const report = run.report()
    assert.equal(report.restart, 'hot')
    assert.ok(report.warnings.some((warning) => /hot restart instead/.test(warning)))
  })

  it('Puma 7+ with nothing telling whether it preloads: warned before the signal that this may be a hot restart', async () => {
    const warned = async (version: string, workers: number) => {
      world = new RestartWorld({workers})
      world.master.version = version
      world.run()
      const start = await world.sent
      world.controller.abort()
      world.cleanUp()
      return start.preflight.warnings.some((warning) => /preloads the app by default/.test(warning))
    }

    assert.equal(await warned('8.0.2', 2), true)
    assert.equal(await warned('7.2.1', 3), true)
    assert.equal(await warned('7.2.1', 1), false, 'one worker: no preload by default')
    assert.equal(await warned('6.6.1', 2), false)
    world = new RestartWorld()
  })

  it('the log renamed and a new one opened mid-restart (logrotate create): the lines of both files are read', async () => {
    world = new RestartWorld({workers: 2})
    Object.assign(world.deps, realLog) // the real follower, on the real file
    const run = world.run()
    await world.sent
    append(world.logPath, [...fromMaster('- Starting phased worker restart, phase: 1'), ...replaced(0)])
    await world.until((state) => state.booted.length === 1)
    renameSync(world.logPath, `${world.logPath}.1`)
    append(`${world.logPath}.1`, replaced(1).slice(0, 2)) // Puma writes to the old file until it reopens
    writeFileSync(world.logPath, '')
    append(world.logPath, replaced(1).slice(2))
    await run.finished()
    const report = run.report()
    assert.deepEqual(
      report.workers.map((w) => w.newPid),
      [3000, 3001],
    )
    assert.ok(
      world.states.some((state) => state.stoppedPids.includes(OLD_PID + 1)),
      "the old file's last lines were read",
    )
  })

  it('Ctrl-C before anything was sent: exit 130 and nothing sent', async () => {
    world = new RestartWorld()
    // The last step before the signal: where the log ends.
    world.deps.logEnd = async () => {
      world.controller.abort()
      return {dev: 1, ino: 1, offset: 0}
    }

    const run = world.run()
    await run.finished()
    const error = run.error(EXIT.interrupted)
    assert.equal(error.message, 'interrupted before anything was sent to Puma')
    assert.deepEqual(world.delivered, [])
    assert.deepEqual(world.followed, [], 'no log followed')
  })

  it('Ctrl-C while waiting: exit 130, saying where the restart stood; nothing more sent', async () => {
    world = new RestartWorld({workers: 2})
    const run = world.run()
    await world.sent
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'))
    await world.advance(300)
    world.controller.abort()
    await world.advance(0)
    const error = run.error(EXIT.interrupted)
    assert.equal(error.message, 'interrupted while waiting: phase 1: 0/2 workers booted; nothing more was sent to Puma')
    assert.equal(world.delivered.length, 1)
    world.assertCleanedUp()
  })

  it('--expect-dir and --health-url are checked after the restart', async () => {
    world = new RestartWorld({workers: 1})
    const run = world.run({expectDir: world.dir, healthUrl: 'http://127.0.0.1:9292/up'})
    await world.sent
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'), ...replaced(0))
    await world.advance(0)
    const report = run.report()
    assert.deepEqual(world.health, ['http://127.0.0.1:9292/up'])
    assert.equal(report.health?.status, 200)
  })

  describe('checks in the order that gives the true reason, all before anything is sent', () => {
    it('the wrong user: exit 4 first, before the log is looked at (a mistyped --log too)', async () => {
      world = new RestartWorld()
      const asked: number[] = []
      world.deps.assertMaySignal = ({pid}) => {
        asked.push(pid)
        throw notPermittedError(`not permitted to signal pid ${pid}: it runs as another user`)
      }

      const run = world.run({logPath: join(world.dir, 'nope.log')})
      await run.finished()
      assert.match(run.error(EXIT.notPermitted).message, /^not permitted to signal pid 1234/)
      assert.deepEqual(asked, [1234])
      assert.deepEqual(world.delivered, [])
      assert.deepEqual(world.followed, [])
    })

    it('only through the control server: no signal, so no question of permission', async () => {
      world = new RestartWorld()
      world.deps.assertMaySignal = () => assert.fail('asked about signalling a restart sent by control')
      const run = world.run({via: 'control', logPath: join(world.dir, 'nope.log'), control: CONTROL})
      await run.finished()
      run.error(EXIT.usage)
    })

    for (const [what, path, message] of [
      ['a --log that does not exist', 'nope.log', /^--log \S+nope\.log does not exist$/],
      ['a --log that is a folder', '.', /^--log \S+ is a folder, not a log file$/],
    ] as const) {
      it(`${what}: exit 2, nothing sent, no wait for --timeout`, async () => {
        world = new RestartWorld()
        const started = world.clock.now()
        const run = world.run({logPath: join(world.dir, path)})
        await run.finished()
        const error = run.error(EXIT.usage)
        assert.match(error.message, message)
        assert.match(error.suggestion ?? '', /--no-wait/)
        assert.deepEqual(world.delivered, [])
        assert.equal(world.clock.now(), started, 'no time waited')
      })
    }

    it('--no-wait with a --log that does not exist: the log is not followed, so it does not matter', async () => {
      world = new RestartWorld()
      const run = world.run({wait: false, logPath: join(world.dir, 'nope.log')})
      await run.finished()
      assert.equal(run.settled.status, 'fulfilled')
      assert.deepEqual(world.delivered, [{command: 'phased-restart', via: 'signal'}])
    })
  })
})
