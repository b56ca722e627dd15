import {strict as assert} from 'node:assert'

import {type Dialect, startFakePuma} from '../helpers/fake-puma.js'
import {stoppedAfter} from '../helpers/processes.js'
import {jsonOf, runCtl} from '../helpers/run-ctl.js'

/**
 * ctl against a fake Puma speaking other versions' log dialects and titles (real Puma here is
 * 5.6.5 only), including the faults real Puma cannot easily be made to show.
 */
describe('restarts across Puma dialects (fake Puma)', function () {
  this.timeout(60_000)
  const start = stoppedAfter('afterEach', startFakePuma)

  const dialects: Dialect[] = ['2.7', '2.16', '4.3', '5.2', '5.6', '6.0', '8.0']
  for (const dialect of dialects) {
    it(`${dialect}: status finds the master, and a phased restart replaces every worker (exit 0)`, async () => {
      const fake = await start({dialect, workers: 3})
      const status = await runCtl(['status', '--pidfile', fake.pidfile, '--json'])
      assert.equal(status.code, 0, status.stderr)
      assert.equal(jsonOf(status).version, dialect === '2.7' ? undefined : fake.version)
      assert.equal(jsonOf(status).workers.length, 3)

      const before = fake.workerPids()
      const result = await runCtl(['phased-restart', '--pidfile', fake.pidfile, '--timeout', '20', '--json'])
      assert.equal(result.code, 0, result.stderr + result.stdout)
      const report = jsonOf(result)
      assert.equal(report.phase, 1)
      assert.equal(report.workers.length, 3)
      const after = fake.workerPids()
      assert.equal(after.length, 3)
      assert.equal(after.filter((pid) => before.includes(pid)).length, 0, 'every worker replaced')
    })
  }

  for (const dialect of ['2.16', '4.3', '5.6', '6.0', '8.0'] as Dialect[]) {
    it(`${dialect}: a worker that fails to boot ends the wait with exit 5`, async () => {
      const fake = await start({dialect, workers: 2})
      fake.setBehaviour('boot-fail')
      const result = await runCtl(['phased-restart', '--pidfile', fake.pidfile, '--timeout', '20', '--json'])
      assert.equal(result.code, 5, result.stderr + result.stdout)
      const {error} = jsonOf(result)
      assert.equal(error.outcome, 'worker-failed')
      assert.ok(result.durationMs < 10_000, `took ${result.durationMs} ms`)
      if (['6.0', '8.0'].includes(dialect))
        assert.ok(
          error.errorLines.some((line: string) => line.includes('boom: simulated boot failure')),
          'the message',
        )
      if (dialect === '2.16')
        assert.ok(
          error.errorLines.some((line: string) => /\(RuntimeError\)/.test(line)),
          'the exception from stderr',
        )
    })
  }

  for (const dialect of ['5.6', '8.0'] as Dialect[]) {
    it(`${dialect}: a hung boot (Puma's boot timeout) is a failure, exit 5`, async () => {
      const fake = await start({dialect, workers: 2, bootTimeout: 1})
      fake.setBehaviour('boot-hang')
      const result = await runCtl(['phased-restart', '--pidfile', fake.pidfile, '--timeout', '20'])
      assert.equal(result.code, 5, result.stderr)
      assert.match(result.stderr, /Terminating timed out worker/)
    })
  }

  it('8.0 preload: the phased restart becomes a hot restart, and a broken app kills the master (exit 7)', async () => {
    const fake = await start({dialect: '8.0', workers: 2, preload: true})
    fake.setBehaviour('master-crash-on-restart')
    const result = await runCtl(['phased-restart', '--pidfile', fake.pidfile, '--timeout', '20'])
    assert.equal(result.code, 7, result.stderr)
    assert.match(result.stderr, /Unable to load application/)
  })

  it('5.6 hot restart keeps the master pid and replaces the workers (exit 0)', async () => {
    const fake = await start({dialect: '5.6', workers: 2})
    const result = await runCtl(['restart', '--pidfile', fake.pidfile, '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(jsonOf(result).restart, 'hot')
    assert.ok(fake.isAlive())
  })

  it('2.7: finds the untitled master by scanning for its workers (--tag is not in 2.7 titles, --dir is)', async () => {
    const fake = await start({dialect: '2.7', workers: 2})
    const result = await runCtl(['status', '--dir', fake.dir, '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(jsonOf(result).pid, fake.pid)
  })

  it('stop that outlasts --timeout (workers still draining): exit 6, and the master is still there', async () => {
    const fake = await start({dialect: '5.6', workers: 1, drainSeconds: 5})
    const result = await runCtl(['stop', '--pidfile', fake.pidfile, '--timeout', '1'])
    assert.equal(result.code, 6, result.stderr)
    assert.match(result.stderr, new RegExp(`pid ${fake.pid} is still running 1 s after SIGTERM`))
    assert.match(result.stderr, /ctl halt/)
    assert.ok(fake.isAlive())
  })
})
