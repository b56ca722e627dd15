import {strict as assert} from 'node:assert'

import {EXIT} from '../../src/errors.js'
import {FakeKernel} from '../helpers/fake-kernel.js'
import {fromMaster, NEW_PID, OLD_PID, replaced, RestartWorld} from '../helpers/restart-world.js'

const SOAK_MS = 10_000

/** A world whose kernel knows the master and its three old workers. */
function kernelWorld(): RestartWorld {
  return new RestartWorld({kernel: (master) => new FakeKernel(master.pid, master.workers)})
}

/** Puma's phased restart to phase 1, every worker replaced, as the log and the kernel show it. */
async function replaceEveryWorker(world: RestartWorld): Promise<void> {
  await world.sent
  await world.write(...fromMaster('- Starting phased worker restart, phase: 1'))
  for (const index of [0, 1, 2]) {
    world.kernel!.exit(OLD_PID + index)
    world.kernel!.fork(NEW_PID + index, index, {booted: true})
    await world.write(...replaced(index)) // eslint-disable-line no-await-in-loop -- Puma replaces them in order
  }
}

/** A phased restart to phase 1 with --soak, every worker replaced: the kernel agrees, so the soak begins. */
async function soaking(world: RestartWorld, soakMs = SOAK_MS) {
  const run = world.run({soakMs})
  await replaceEveryWorker(world)

  await world.until((state) => state.status === 'soaking')
  return run
}

describe('--soak: a restart that is done is watched a while longer', () => {
  let world: RestartWorld

  afterEach(() => world.cleanUp())

  it('every new worker lives through the soak: exit 0 only at its end, with soak {seconds, ok: true}', async () => {
    world = kernelWorld()
    const run = await soaking(world)
    const soakStart = world.states.find((state) => state.status === 'soaking')!
    assert.ok(
      soakStart.notices.some((notice) => notice.message.startsWith('every worker booted: soaking 10 s')),
      'the soak is told when it begins',
    )
    await world.advance(SOAK_MS - 300)
    assert.equal(run.settled.status, 'pending', 'not before the soak ends')
    await world.advance(400)
    await run.finished()
    const report = run.report()
    assert.equal(report.exitCode, EXIT.ok)
    assert.deepEqual(report.soak, {seconds: 10, ok: true})
    assert.match(report.summary, /^Phased restart finished in .*; soaked 10 s, every new worker still running$/)
    assert.ok(report.durationMs < 1000, `the restart's own duration, not the soak's: ${report.durationMs}`)
    world.assertCleanedUp()
  })

  it('a new worker that dies during the soak: exit 5 naming it and when it died, within a poll', async () => {
    world = kernelWorld()
    const run = await soaking(world)
    await world.advance(3000)
    world.kernel!.exit(NEW_PID + 1)
    await world.advance(250)
    assert.equal(run.settled.status, 'pending', 'its error lines are read for a moment first')
    await world.advance(250)
    await run.finished()
    const error = run.error(EXIT.workerFailed)
    const data = error.data as {failure: unknown; soak: unknown; summary: string}
    assert.deepEqual(data.failure, {cause: 'died-in-soak', index: 1, pid: NEW_PID + 1})
    assert.deepEqual(data.soak, {seconds: 10, ok: false})
    assert.match(
      data.summary,
      new RegExp(`^Worker 1 \\(pid ${NEW_PID + 1}\\) died 3\\.\\d s into the 10 s soak of phase 1`),
    )
    world.assertCleanedUp()
  })

  it('the soak outlasts --timeout: the deadline no longer applies once the restart is done', async () => {
    world = kernelWorld()
    const run = world.run({soakMs: 90_000, timeoutMs: 60_000})
    await replaceEveryWorker(world)

    await world.until((state) => state.status === 'soaking')
    await world.advance(70_000)
    assert.equal(run.settled.status, 'pending')
    await world.advance(21_000)
    await run.finished()
    assert.equal(run.report().exitCode, EXIT.ok)
  })

  it('the master exits during the soak: exit 7', async () => {
    world = kernelWorld()
    const run = await soaking(world)
    await world.advance(1000)
    world.masterDead = true
    await world.advance(500)
    await run.finished()
    const error = run.error(EXIT.masterDied)
    assert.deepEqual((error.data as {soak: unknown}).soak, {seconds: 10, ok: false})
  })

  it('without --soak the restart is done the moment the kernel agrees (no soak in the report)', async () => {
    world = kernelWorld()
    const run = world.run()
    await replaceEveryWorker(world)

    await run.finished()
    assert.equal(run.report().soak, undefined)
  })
})
