import {strict as assert} from 'node:assert'

import {CtlError, EXIT, phasedRestart, restart, type RestartEvent, status} from '../../src/index.js'
import {type PumaCluster, RAISING_APP, startPumaCluster} from '../helpers/puma-cluster.js'

/** The programmatic API the commands wrap, against real Puma. */
describe("the programmatic API (import {phasedRestart} from 'puma-ctl')", function () {
  this.timeout(60_000)
  let cluster: PumaCluster

  before(async () => {
    cluster = await startPumaCluster({workers: 2})
  })

  after(async () => cluster.stop())

  it('is what the package exports', async () => {
    const api = await import('puma-ctl')
    assert.equal(typeof api.phasedRestart, 'function')
    assert.equal(typeof api.restart, 'function')
    assert.equal(typeof api.status, 'function')
    assert.equal(api.EXIT.workerFailed, 5)
  })

  it('status()', async () => {
    const current = await status({pidfile: cluster.pidfile})
    assert.equal(current.pid, cluster.pid)
    assert.equal(current.workers.length, 2)
  })

  it('phasedRestart(): progress events as an async iterator, then the report', async () => {
    const run = phasedRestart({pidfile: cluster.pidfile, timeoutMs: 30_000})
    const events: RestartEvent[] = []
    for await (const event of run) events.push(event)
    const report = await run.result
    assert.equal(report.waited, true)
    assert.ok(report.waited && report.outcome === 'done' && report.phase === 1)
    assert.equal(events[0].type, 'sent')
    const notices = events.flatMap((event) => (event.type === 'update' ? event.notices.map((n) => n.kind) : []))
    assert.deepEqual(notices.filter((kind) => kind === 'worker-booted').length, 2)
    const last = events.at(-1)!
    assert.ok(last.type === 'update' && last.progress.status === 'finished')
    // Lines that change nothing (Puma's "Stopping …", app output) make no event.
    const updates = events.filter((event) => event.type === 'update')
    for (const [i, update] of updates.entries()) {
      const changed = i === 0 || update.progress.label !== updates[i - 1].progress.label
      assert.ok(changed || update.notices.length > 0, `update ${i} tells nothing new: ${update.progress.label}`)
    }
  })

  it('a failing restart rejects with a CtlError carrying the exit code', async () => {
    cluster.setApp(RAISING_APP)
    try {
      await assert.rejects(
        restart({pidfile: cluster.pidfile, timeoutMs: 30_000, check: false}).result,
        (error: unknown) => error instanceof CtlError && error.exitCode === EXIT.workerFailed,
      )
    } finally {
      cluster.setApp("run ->(env) { [200, {}, ['ok']] }\n")
    }
  })

  it('aborting the signal stops waiting: exit code 130, nothing more sent', async () => {
    cluster.setApp("sleep 5\nrun ->(env) { [200, {}, ['ok']] }\n")
    const controller = new AbortController()
    const run = phasedRestart({pidfile: cluster.pidfile, timeoutMs: 30_000, signal: controller.signal})
    for await (const event of run) if (event.type === 'sent') controller.abort()
    await assert.rejects(
      run.result,
      (error: unknown) => error instanceof CtlError && error.exitCode === EXIT.interrupted,
    )
  })
})
