import {strict as assert} from 'node:assert'

import {EXIT} from '../../src/errors.js'
import {FakeKernel} from '../helpers/fake-kernel.js'
import {fromMaster, NEW_PID, OLD_PID, replaced, RestartWorld} from '../helpers/restart-world.js'

async function refusedBeforeSending(world: RestartWorld, message: RegExp): Promise<void> {
  const run = world.run({refork: true})
  await run.finished()
  const error = run.error(EXIT.usage)
  assert.match(error.message, message)
  assert.ok(error.suggestion, 'says what would make it work')
  assert.deepEqual(world.delivered, [])
}

const banner = (refork: '✔' | '✖') => `[1234] *     Restarts: (✔) hot (✔) phased (${refork}) refork\n`

describe('ctl refork: a refork followed like a phased restart that leaves worker 0 alone', () => {
  let world: RestartWorld

  afterEach(() => world.cleanUp())

  it('Puma before 6.6.1 (phased-restart lines): SIGURG, exit 0 once workers 1 and 2 booted', async () => {
    world = new RestartWorld()
    const run = world.run({refork: true})
    const start = await world.sent
    assert.deepEqual(world.delivered, [{command: 'refork', via: 'signal'}])
    assert.equal(start.sent, 'SIGURG')
    await world.advance(100)
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'))
    assert.equal(world.states.at(-1)?.notices[0]?.message, 'Puma started a refork: phase 1')
    await world.advance(400)
    await world.write(...replaced(1))
    assert.equal(run.settled.status, 'pending', 'worker 2 is still to boot')
    await world.advance(400)
    await world.write(...replaced(2))
    const report = run.report()
    assert.equal(report.outcome, 'done')
    assert.equal(report.restart, 'refork')
    assert.match(report.summary, /^Refork finished in 0\.90 s: phase 1, 2\/2 workers booted/)
    assert.deepEqual(
      report.workers.map(({index, oldPid, newPid}) => ({index, oldPid, newPid})),
      [1, 2].map((index) => ({index, oldPid: OLD_PID + index, newPid: NEW_PID + index})),
    )
    world.assertCleanedUp()
  })

  it("fork_worker seen in the process tree (workers 1.. are worker 0's children): SIGURG", async () => {
    world = new RestartWorld({
      kernel(master) {
        const [zero, ...others] = master.workers
        const kernel = new FakeKernel(master.pid, [zero])
        for (const worker of others) kernel.fork(worker.pid, worker.index, {booted: true, ppid: zero.pid})
        return kernel
      },
    })
    world.run({refork: true, wait: false})
    assert.equal((await world.sent).sent, 'SIGURG')
  })

  it('Puma 6.6.1+ (refork lines, a banner that says "(✔) refork"): exit 0', async () => {
    world = new RestartWorld({logText: banner('✔')})
    const run = world.run({refork: true})
    assert.equal((await world.sent).preflight.reforkAvailable, true)
    await world.write(...fromMaster('- Starting worker refork, phase: 1'), ...replaced(1, 1, 'refork'))
    await world.write(...replaced(2, 1, 'refork'))
    const report = run.report()
    assert.equal(report.restart, 'refork')
    assert.equal(report.phase, 1)
    world.assertCleanedUp()
  })

  it('Puma never starts it (no fork_worker): exit 6 at the deadline, saying that Puma ignores SIGURG without fork_worker', async () => {
    world = new RestartWorld()
    const run = world.run({refork: true, timeoutMs: 5000})
    await world.sent
    assert.equal(world.states.at(-1)?.outcome, undefined)
    await world.advance(4999)
    assert.equal(run.settled.status, 'pending')
    await world.advance(2)
    const error = run.error(EXIT.timedOut)
    assert.match(error.message, /^Puma never started the refork: no "Starting worker refork" \(6\.6\.1\+\)/)
    assert.match(error.message, /Puma ignores SIGURG without fork_worker in its config/)
    assert.equal((error.data as {restart: string}).restart, 'refork')
    world.assertCleanedUp()
  })

  it('a worker that fails to boot in a refork: exit 5', async () => {
    world = new RestartWorld()
    const run = world.run({refork: true})
    await world.sent
    await world.write(...fromMaster('- Starting phased worker restart, phase: 1'), ...replaced(1).slice(0, 2))
    for (const pid of [3101, 3103]) {
      // eslint-disable-next-line no-await-in-loop -- one failure after the other
      await world.write(`[${pid}] ! Unable to start worker`, `[${pid}] Early termination of worker`)
    }

    const error = run.error(EXIT.workerFailed)
    assert.match(error.message, /^Worker 1 failed to boot in phase 1/)
    world.assertCleanedUp()
  })

  it('--no-wait: SIGURG sent, nothing followed', async () => {
    world = new RestartWorld()
    const report = await world.run({refork: true, wait: false}).promise
    assert.ok(!report.waited)
    assert.equal(report.sent, 'SIGURG')
    assert.deepEqual(world.followed, [])
  })

  describe('refused before anything is sent (exit 2)', () => {
    it('the last banner says "(✖) refork" (no fork_worker)', async () => {
      world = new RestartWorld({logText: banner('✖')})
      await refusedBeforeSending(
        world,
        /^refusing: fork_worker is not configured \(Puma's last banner says "\(✖\) refork"\)/,
      )
    })

    it('an older banner with "(✖) refork" is overridden by a newer one with "(✔) refork"', async () => {
      world = new RestartWorld({logText: banner('✖') + '[1234] Puma starting in cluster mode...\n' + banner('✔')})
      world.run({refork: true, wait: false})
      assert.equal((await world.sent).sent, 'SIGURG')
    })

    it("Puma before 6.6.1 (no banner mark): every worker is the master's own child, so fork_worker is off", async () => {
      world = new RestartWorld({kernel: (master) => new FakeKernel(master.pid, master.workers)})
      await refusedBeforeSending(
        world,
        /^refusing: fork_worker is not configured \(every worker is the master's own child, none forked from worker 0\)/,
      )
    })

    it('single mode (no workers)', async () => {
      world = new RestartWorld({workers: 0})
      await refusedBeforeSending(
        world,
        /^refusing: pid 1234 runs in single mode \(no workers\), where refork does not exist/,
      )
    })

    it('Puma before 5.0 (its title says 4.3.12)', async () => {
      world = new RestartWorld()
      world.master.version = '4.3.12'
      await refusedBeforeSending(world, /^refusing: pid 1234 runs Puma 4\.3\.12, which has no refork/)
    })

    it('also with --no-wait', async () => {
      world = new RestartWorld({logText: banner('✖')})
      const run = world.run({refork: true, wait: false})
      await run.finished()
      run.error(EXIT.usage)
      assert.deepEqual(world.delivered, [])
    })
  })
})
