import {strict as assert} from 'node:assert'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {EXIT} from '../../src/errors.js'
import {defaultStallMs, type PumaTimeouts, readPumaTimeouts} from '../../src/restart/stall-default.js'
import {FakeKernel} from '../helpers/fake-kernel.js'
import {fromMaster, NEW_PID, OLD_PID, replaced, RestartWorld} from '../helpers/restart-world.js'

const STALL_MS = 5000
const PHASE_1 = fromMaster('- Starting phased worker restart, phase: 1')
const stopping = (index: number) =>
  fromMaster(`- Stopping ${OLD_PID + index} for phased upgrade...`, `- TERM sent to ${OLD_PID + index}...`)

function kernelWorld(pumaTimeouts?: PumaTimeouts): RestartWorld {
  return new RestartWorld({kernel: (master) => new FakeKernel(master.pid, master.workers), pumaTimeouts})
}

describe('--stall-timeout: a restart without progress ends with exit 6, naming the stuck step', () => {
  let world: RestartWorld

  afterEach(() => world.cleanUp())

  it('an old worker stopped but still alive: draining, with its pid and for how long', async () => {
    world = kernelWorld()
    const run = world.run({stallMs: STALL_MS})
    await world.sent
    await world.write(...PHASE_1, ...stopping(0))
    await world.advance(2000)
    // 5.0+ repeats the line while the worker drains: that is no progress.
    await world.write(...stopping(0))
    await world.advance(STALL_MS - 2000 + 1)
    await run.finished()
    const data = run.error(EXIT.timedOut).data!
    assert.deepEqual(data.stall, {step: 'draining', pid: OLD_PID, seconds: 5, forSeconds: 5})
    assert.match(
      String(data.summary),
      new RegExp(
        `^Stalled: no progress for 5 s in phase 1: old worker pid ${OLD_PID} was stopped 5 s ago and is still draining`,
      ),
    )
    world.assertCleanedUp()
  })

  it('the old worker gone and a new one forked that never boots: booting, with the new pid', async () => {
    world = kernelWorld()
    const run = world.run({stallMs: STALL_MS})
    await world.sent
    world.kernel!.exit(OLD_PID + 0)
    world.kernel!.fork(NEW_PID + 0, 0, {booted: true})
    await world.write(...PHASE_1, ...replaced(0))
    await world.advance(1000)
    await world.write(...stopping(1))
    world.kernel!.exit(OLD_PID + 1)
    world.kernel!.fork(NEW_PID + 1, 1)
    await world.advance(STALL_MS - 1)
    assert.equal(run.settled.status, 'pending', 'the stop of worker 1 was progress')
    await world.advance(2)
    await run.finished()
    const data = run.error(EXIT.timedOut).data!
    assert.deepEqual(data.stall, {step: 'booting', pid: NEW_PID + 1, seconds: 5, forSeconds: 5})
    assert.match(String(data.summary), new RegExp(`new worker pid ${NEW_PID + 1} has been booting for 5 s`))
  })

  it('Puma never starts the restart: the signal step', async () => {
    world = kernelWorld()
    const run = world.run({stallMs: STALL_MS})
    await world.sent
    await world.advance(STALL_MS + 1)
    await run.finished()
    const data = run.error(EXIT.timedOut).data!
    assert.deepEqual(data.stall, {step: 'signal', seconds: 5, forSeconds: 5})
  })

  it('a restart that keeps moving, slower than the stall timeout overall: exit 0', async () => {
    world = kernelWorld()
    const run = world.run({stallMs: STALL_MS})
    await world.sent
    await world.write(...PHASE_1)
    for (const index of [0, 1, 2]) {
      await world.advance(4000) // eslint-disable-line no-await-in-loop -- each step takes its time
      world.kernel!.exit(OLD_PID + index)
      world.kernel!.fork(NEW_PID + index, index, {booted: true})
      await world.write(...replaced(index)) // eslint-disable-line no-await-in-loop -- in order
    }

    await world.advance(100)
    await run.finished()
    assert.equal(run.report().exitCode, EXIT.ok)
    assert.equal(run.report().stall, undefined)
  })

  describe("the default, from Puma's own timeouts", () => {
    it('worker_shutdown_timeout + worker_boot_timeout + 15 s; before Puma 5 the boot bound is also worker_timeout', () => {
      assert.equal(defaultStallMs({}, '5.6.5'), 105_000)
      assert.equal(defaultStallMs({workerBootTimeout: 120, workerShutdownTimeout: 10}, '8.0.2'), 145_000)
      assert.equal(defaultStallMs({workerBootTimeout: 20, workerTimeout: 90}, '4.3.12'), 135_000)
      assert.equal(defaultStallMs({workerBootTimeout: 20, workerTimeout: 90}, '5.0.0'), 65_000)
    })

    it('a phased restart with no --stall-timeout and known timeouts: stalled at their sum, exit 6', async () => {
      world = kernelWorld({workerBootTimeout: 2, workerShutdownTimeout: 1})
      const run = world.run({timeoutMs: 60_000})
      await world.sent
      await world.write(...PHASE_1, ...stopping(0))
      await world.advance(18_000 - 1)
      assert.equal(run.settled.status, 'pending')
      await world.advance(2)
      await run.finished()
      const data = run.error(EXIT.timedOut).data!
      assert.deepEqual(data.stall, {step: 'draining', pid: OLD_PID, seconds: 18, forSeconds: 18})
    })

    for (const [what, timeouts, request] of [
      ['--stall-timeout 0 turns it off', {}, {stallMs: 0}],
      ['unknown timeouts: no default', undefined, {}],
      ['a hot restart: no default', {}, {kind: 'hot' as const}],
    ] as const) {
      it(`${what}: the --timeout decides`, async () => {
        world = kernelWorld(timeouts)
        const run = world.run({timeoutMs: 200_000, ...request})
        await world.sent
        await world.advance(200_001)
        await run.finished()
        assert.equal(run.error(EXIT.timedOut).data!.stall, undefined)
      })
    }
  })

  describe('readPumaTimeouts: the config the master loaded', () => {
    let dir: string

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'ctl-stall-default-'))
      mkdirSync(join(dir, 'config', 'puma'), {recursive: true})
    })

    afterEach(() => rmSync(dir, {recursive: true, force: true}))

    it("Puma's first default file for the master's environment; none: Puma's defaults; -F instead when given", async () => {
      assert.deepEqual(await readPumaTimeouts(dir, {}), {})
      writeFileSync(join(dir, 'config', 'puma.rb'), 'workers 2\nworker_boot_timeout 120\n')
      writeFileSync(join(dir, 'config', 'puma', 'production.rb'), 'worker_shutdown_timeout 5\n')
      assert.deepEqual(await readPumaTimeouts(dir, {}), {workerBootTimeout: 120})
      assert.deepEqual(await readPumaTimeouts(dir, {RACK_ENV: 'production'}), {workerShutdownTimeout: 5})
      writeFileSync(join(dir, 'other.rb'), 'worker_timeout 90\n')
      assert.deepEqual(await readPumaTimeouts(dir, {}, join(dir, 'other.rb')), {workerTimeout: 90})
    })

    it("without -F, a file that does not give the master's binds and tag is not the config it loaded (puma -C …): not known", async () => {
      writeFileSync(join(dir, 'config', 'puma.rb'), "port 3000\ntag 'shop'\nworker_boot_timeout 20\n")
      const tcp = {binds: ['tcp://0.0.0.0:3000'], tag: 'shop'}
      assert.deepEqual(await readPumaTimeouts(dir, {}, undefined, tcp), {workerBootTimeout: 20})
      assert.deepEqual(
        await readPumaTimeouts(dir, {}, undefined, {binds: ['tcp://[::]:3000'], tag: 'shop'}),
        {workerBootTimeout: 20},
        "Puma 8's IPv6 host for a bare port",
      )
      // capistrano3-puma: `puma -C shared/puma.rb`, binding a socket; the release's config/puma.rb is not loaded.
      const socket = {binds: ['unix:///srv/app/shared/tmp/sockets/puma.sock'], tag: 'shop'}
      assert.equal(await readPumaTimeouts(dir, {}, undefined, socket), undefined)
      assert.equal(await readPumaTimeouts(dir, {}, undefined, {...tcp, tag: 'other'}), undefined)
      assert.deepEqual(
        await readPumaTimeouts(dir, {}, join(dir, 'config', 'puma.rb'), socket),
        {workerBootTimeout: 20},
        'a file named with -F is taken at its word',
      )
      rmSync(join(dir, 'config', 'puma.rb'))
      assert.deepEqual(await readPumaTimeouts(dir, {}, undefined, {binds: ['tcp://0.0.0.0:9292']}), {})
      assert.equal(
        await readPumaTimeouts(dir, {}, undefined, tcp),
        undefined,
        'no file, yet binds Puma would not choose',
      )
    })

    it('a timeout the static reading cannot evaluate, or a folder since deleted: not known', async () => {
      writeFileSync(join(dir, 'config', 'puma.rb'), "worker_boot_timeout File.read('boot').to_i\n")
      assert.equal(await readPumaTimeouts(dir, {}), undefined)
      assert.equal(await readPumaTimeouts(join(dir, 'gone'), {}), undefined)
    })
  })
})
