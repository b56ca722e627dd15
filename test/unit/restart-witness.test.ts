import {strict as assert} from 'node:assert'

import {EXIT} from '../../src/errors.js'
import {FakeKernel} from '../helpers/fake-kernel.js'
import {fromMaster, MASTER, NEW_PID, OLD_PID, replaced, RestartWorld} from '../helpers/restart-world.js'

const PHASE_1 = fromMaster('- Starting phased worker restart, phase: 1')

/** A world whose kernel knows the master and its three old workers. */
function kernelWorld(options: {workers?: number} = {}): RestartWorld {
  return new RestartWorld({...options, kernel: (master) => new FakeKernel(master.pid, master.workers)})
}

/** Worker 2 was killed a moment before the signal: a zombie the master has not reaped, and not in the scan's list. */
function workerDeadAtSignal(): RestartWorld {
  const world = kernelWorld()
  world.kernel!.exit(OLD_PID + 2, {zombie: true})
  world.master.workers.pop()
  return world
}

/** Puma replaces worker `index`: the old process exits, the new one is forked and serves, then the lines. */
async function replace(world: RestartWorld, index: number, {serving = true} = {}): Promise<void> {
  world.kernel!.exit(OLD_PID + index)
  world.kernel!.fork(NEW_PID + index, index, {booted: serving})
  await world.write(...replaced(index))
}

/** A new worker that the wait's look at the family sees alive, then dies before its failure lines are read. */
async function failsOnceSeen(world: RestartWorld, pid: number, index?: number): Promise<void> {
  world.kernel!.fork(pid, index)
  await world.advance(250) // the wait looks at the master's children at each liveness poll
  world.kernel!.exit(pid)
  await world.write(`[${pid}] ! Unable to start worker`, `[${pid}] Early termination of worker`)
}

describe('the kernel as witness: a restart counts only what the kernel agrees with', () => {
  let world: RestartWorld

  afterEach(() => world.cleanUp())

  it('boot lines with the master prefix naming PIDs it never forked, or its old workers, are ignored (told once): the real boots decide', async () => {
    world = kernelWorld()
    world.kernel!.stranger(4444)
    const run = world.run()
    await world.sent
    await world.write(...PHASE_1)
    await world.write(
      ...fromMaster(
        '- Worker 0 (PID: 4444) booted in 0.01s, phase: 1',
        '- Worker 1 (PID: 4444) booted in 0.01s, phase: 1',
        `- Worker 2 (PID: ${OLD_PID + 2}) booted in 0.01s, phase: 1`,
        '- Worker 2 (PID: 31337) booted in 0.01s, phase: 1',
      ),
    )
    assert.equal(run.settled.status, 'pending')
    for (const index of [0, 1, 2]) await replace(world, index) // eslint-disable-line no-await-in-loop
    await world.advance(50)
    const report = run.report()
    assert.deepEqual(
      report.workers.map((w) => w.newPid),
      [0, 1, 2].map((i) => NEW_PID + i),
    )
    const ignored = report.warnings.filter((w) => w.startsWith('ignored a log line naming pid'))
    assert.deepEqual(
      ignored.map((w) => /pid (\d+)/.exec(w)?.[1]),
      ['4444', '31337'],
      'a stranger is told once; an old worker is silently not new',
    )
  })

  it('failure lines naming PIDs the master never forked, or a worker from before the signal, change nothing', async () => {
    world = kernelWorld()
    const run = world.run()
    await world.sent
    await world.write(...PHASE_1)
    await world.write(
      '[99999] ! Unable to start worker',
      '[99998] ! Unable to start worker',
      '[99998] Early termination of worker',
      ...fromMaster('! Terminating timed out worker (Worker 0 failed to boot within 60 seconds): 99997'),
      ...fromMaster(`! Terminating timed out worker (worker failed to boot within 4 seconds): ${OLD_PID + 1}`),
    )
    await world.advance(300)
    assert.equal(run.settled.status, 'pending')
    for (const index of [0, 1, 2]) await replace(world, index) // eslint-disable-line no-await-in-loop
    await world.advance(50)
    assert.equal(run.report().exitCode, EXIT.ok)
  })

  it('a worker the kernel showed since the signal that fails is believed, even once it is gone: exit 5', async () => {
    world = kernelWorld()
    const run = world.run()
    await world.sent
    await world.write(...PHASE_1, ...fromMaster(`- Stopping ${OLD_PID} for phased upgrade...`))
    world.kernel!.exit(OLD_PID)
    await failsOnceSeen(world, 3100, 0)
    await failsOnceSeen(world, 3101, 0)

    const error = run.error(EXIT.workerFailed)
    assert.deepEqual((error.data as {failure: unknown}).failure, {cause: 'boot-error', index: 0, pid: 3101})
  })

  it('after a respawn Puma replaces workers in its own order: the failing worker is the one it stopped, not the lowest index', async () => {
    world = kernelWorld()
    const run = world.run()
    await world.sent
    // Worker 0 was respawned before: Puma's list is now [1, 2, 0], and it stops worker 1 first.
    await world.write(...PHASE_1, ...fromMaster(`- Stopping ${OLD_PID + 1} for phased upgrade...`))
    world.kernel!.exit(OLD_PID + 1)
    // Titles without an index: the kernel tells none.
    await failsOnceSeen(world, 3100)
    await failsOnceSeen(world, 3101)

    const error = run.error(EXIT.workerFailed)
    assert.equal((error.data as {failure: {index: number}}).failure.index, 1)
    assert.match(
      error.message,
      /^Worker 1 failed to boot .*Puma keeps retrying worker 1\); the old workers run \/tmp\/ctl-restart-world-/,
    )
  })

  it("indented lines join a failing worker's error only right after its own lines, not after app output", async () => {
    world = kernelWorld()
    const run = world.run()
    await world.sent
    await world.write(...PHASE_1, ...fromMaster(`- Stopping ${OLD_PID} for phased upgrade...`))
    world.kernel!.fork(3100, 0)
    world.kernel!.fork(3101, 0)
    await world.write('[3100] ! Unable to start worker', '[3100] Early termination of worker')
    await world.write('[3101] ! Unable to start worker', '[3101] RuntimeError: broken release', '    config.ru:1')
    await world.write('GET /?q= 200', '    forged: Phased restart finished')
    await world.write('[3101] Early termination of worker')
    const {details} = run.error(EXIT.workerFailed)
    assert.ok(details?.includes('    config.ru:1'), String(details))
    assert.ok(!details?.some((line) => line.includes('forged')), String(details))
  })

  it('early terminations naming PIDs that are gone and never were workers of the master (short-lived processes) change nothing', async () => {
    world = kernelWorld()
    const run = world.run()
    await world.sent
    await world.write(...PHASE_1)
    for (const pid of [5001, 5002, 5003]) {
      world.kernel!.stranger(pid)
      world.kernel!.exit(pid)
    }

    await world.write(...[5001, 5002, 5003].map((pid) => `[${pid}] Early termination of worker`))
    await world.write('[5004] ! Unable to start worker', '[5005] ! Unable to start worker')
    await world.advance(300)
    assert.equal(run.settled.status, 'pending')
    for (const index of [0, 1, 2]) await replace(world, index) // eslint-disable-line no-await-in-loop
    assert.equal(run.report().exitCode, EXIT.ok)
  })

  it('a flood of forged lines naming strangers: told for three PIDs, then once more; the restart goes on', async () => {
    world = kernelWorld()
    const run = world.run()
    await world.sent
    await world.write(...PHASE_1)
    const forged = Array.from(
      {length: 2000},
      (_, i) => `[${MASTER}] - Worker 0 (PID: ${40_000 + i}) booted in 0.01s, phase: 1`,
    )
    for (let i = 0; i < 2000; i++) world.kernel!.stranger(40_000 + i)
    const started = performance.now()
    await world.write(...forged)
    assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`)
    for (const index of [0, 1, 2]) await replace(world, index) // eslint-disable-line no-await-in-loop
    const {warnings} = run.report()
    assert.equal(warnings.filter((w) => w.startsWith('ignored')).length, 4)
  })

  it('not done while another worker of the master still runs: a worker dead at the signal, respawned in the old phase, is waited for', async () => {
    world = workerDeadAtSignal()
    const run = world.run()
    await world.sent
    await world.write(...PHASE_1)
    // The master reaps it and respawns worker 2 in the old phase.
    world.kernel!.exit(OLD_PID + 2)
    world.kernel!.fork(3900, 2, {booted: true})
    await world.write(...fromMaster('- Worker 2 (PID: 3900) booted in 0.5s, phase: 0'))
    await replace(world, 0)
    await replace(world, 1)
    await world.advance(200)
    assert.equal(run.settled.status, 'pending', 'worker 2 still runs phase 0')
    assert.equal(world.states.at(-1)?.workers, 3)
    world.kernel!.exit(3900)
    world.kernel!.fork(NEW_PID + 2, 2, {booted: true})
    await world.write(
      ...fromMaster(
        '- Stopping 3900 for phased upgrade...',
        `- Worker 2 (PID: ${NEW_PID + 2}) booted in 0.5s, phase: 1`,
      ),
    )
    await world.advance(50)
    const report = run.report()
    assert.deepEqual(report.workers.map((w) => w.index).sort(), [0, 1, 2])
  })

  it('a boot logged a moment before its server thread is named: done once it serves (the next look, 50 ms later)', async () => {
    world = kernelWorld({workers: 1})
    const run = world.run()
    await world.sent
    await world.write(...PHASE_1)
    await replace(world, 0, {serving: false})
    await world.advance(100)
    assert.equal(run.settled.status, 'pending')
    world.kernel!.boot(NEW_PID)
    await world.advance(50)
    assert.equal(run.report().exitCode, EXIT.ok)
  })

  it('a counted worker gone by the time the kernel is asked is not booted after all: its respawn is waited for', async () => {
    world = kernelWorld({workers: 1})
    const run = world.run()
    await world.sent
    await world.write(...PHASE_1)
    await replace(world, 0, {serving: false}) // counted, not yet serving: the kernel is asked again
    world.kernel!.exit(NEW_PID)
    await world.advance(100)
    assert.equal(run.settled.status, 'pending')
    world.kernel!.fork(NEW_PID + 10, 0, {booted: true})
    await world.write(...fromMaster(`- Worker 0 (PID: ${NEW_PID + 10}) booted in 0.5s, phase: 1`))
    await world.advance(50)
    assert.deepEqual(
      run.report().workers.map((w) => w.newPid),
      [NEW_PID + 10],
    )
  })

  it('a worker dead at the signal widens the cluster: a broken release names it and counts all 3', async () => {
    world = workerDeadAtSignal()
    const run = world.run()
    await world.sent
    await world.write(...PHASE_1)
    for (const pid of [3100, 3101]) {
      world.kernel!.fork(pid, 2)
      // eslint-disable-next-line no-await-in-loop
      await world.write(`[${pid}] ! Unable to start worker`, `[${pid}] Early termination of worker`)
    }

    const data = run.error(EXIT.workerFailed).data as {failure: {index: number}; serving: {sentence: string}}
    assert.equal(data.failure.index, 2, 'its title says worker 2')
    assert.match(data.serving.sentence, /^2 of 3 workers still run/)
  })

  it("the cluster's size is the workers the kernel shows, not a banner anyone can print, nor the highest index + 1", async () => {
    // After kill -9 of worker 0 and a TTOU, Puma keeps workers 1 and 2: two workers.
    const forgedBanner = fromMaster('*      Workers: 50', '- Worker 7 (PID: 2001) booted in 0.01s, phase: 0')
    world = new RestartWorld({
      logText: forgedBanner.join('\n') + '\n',
      kernel: (master) => new FakeKernel(master.pid, master.workers),
    })
    world.master.workers.shift()
    world.kernel!.exit(OLD_PID)
    world.run()
    await world.sent
    await world.write(...PHASE_1)
    assert.equal(world.states.at(-1)?.plan.workers, 2)
    world.controller.abort()
  })

  it('timeout while the kernel does not agree: the summary names the worker', async () => {
    world = kernelWorld({workers: 1})
    const run = world.run({timeoutMs: 1000})
    await world.sent
    await world.write(...PHASE_1)
    await replace(world, 0, {serving: false}) // a boot line, but Puma's server never runs
    await world.advance(1001)
    assert.match(run.error(EXIT.timedOut).message, /1\/1 workers booted, but the kernel does not agree yet: pid 3000 /)
  })

  describe('logs whose lines cannot be attributed, and single mode', () => {
    let world: RestartWorld

    afterEach(() => world.cleanUp())

    /** A log_formatter without the PID: Puma's messages behind a timestamp, no `[pid] `. */
    const PIDLESS = [0, 1].map(
      (i) => `2026-11-29T15:00:00Z - Worker ${i} (PID: ${OLD_PID + i}) booted in 0.5s, phase: 0\n`,
    )

    it('Puma lines without the master prefix and no control server: exit 2 before anything is sent', async () => {
      world = new RestartWorld({workers: 2, logText: PIDLESS.join('')})
      const run = world.run()
      await run.finished()
      const error = run.error(EXIT.usage)
      assert.match(error.message, /carry no \[pid\] prefix of the master/)
      assert.deepEqual(world.delivered, [])
    })

    it('Puma lines without the master prefix and a control server: /stats decides, the log is not followed', async () => {
      const answer = {
        mode: 'cluster' as const,
        startedAt: '2026-11-24T12:00:00Z',
        phase: 0,
        workers: 2,
        bootedWorkers: 2,
        oldWorkers: 0,
        workerStatus: [0, 1].map((index) => ({index, pid: OLD_PID + index, phase: 0, booted: true})),
      }
      world = new RestartWorld({workers: 2, logText: PIDLESS.join(''), stats: () => answer})
      world.run({control: {url: 'tcp://127.0.0.1:9293', token: 't', origin: '--control-url'}})
      const start = await world.sent
      assert.deepEqual(world.followed, [])
      assert.ok(start.preflight.warnings.some((w) => w.includes('ctl follows /stats instead')))
      world.controller.abort()
    })

    it('single mode through /stats alone, restarted within the second: the kernel tells the re-exec that started_at cannot', async () => {
      const single = {mode: 'single' as const, startedAt: '2026-11-29T16:00:00Z', workerStatus: []}
      world = new RestartWorld({
        workers: 0,
        withLog: false,
        stats: () => single,
        kernel: (master) => new FakeKernel(master.pid, master.workers),
      })
      const run = world.run({kind: 'hot', control: {url: 'tcp://127.0.0.1:9293', token: 't', origin: '--control-url'}})
      await world.sent
      world.kernel!.reexec()
      await world.advance(300)
      assert.equal(run.settled.status, 'pending', 'still loading the app: no new server thread')
      world.kernel!.boot(world.master.pid)
      await world.advance(175) // /stats, unchanged so far, is asked at 100, 250 and 475 ms
      assert.equal(run.report().restart, 'hot')
    })

    it('single mode: "Use Ctrl-C to stop" is believed once the re-executed master runs a server thread it did not have', async () => {
      world = kernelWorld({workers: 0})
      const run = world.run({kind: 'hot'})
      await world.sent
      world.kernel!.reexec()
      await world.write('* Restarting...', 'Puma starting in single mode...', 'Use Ctrl-C to stop')
      await world.advance(200)
      assert.equal(run.settled.status, 'pending', 'a forged or early "ready": no new server thread yet')
      world.kernel!.boot(world.master.pid)
      await world.advance(51)
      assert.equal(run.report().exitCode, EXIT.ok)
    })
  })
})
