import {strict as assert} from 'node:assert'

import {stoppedAfter} from '../helpers/processes.js'
import {RAISING_APP, startPumaCluster} from '../helpers/puma-cluster.js'
import {type CtlResult, runCtl} from '../helpers/run-ctl.js'

/** Every line of stdout, parsed: a line that is not JSON fails here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test reads the fields it checks
function linesOf(result: CtlResult): any[] {
  assert.ok(result.stdout.endsWith('\n'), result.stdout)
  return result.stdout
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line))
}

/** --ndjson against real Puma 5.6.5: what a deploy tool reading ctl's stdout line by line sees. */
describe('phased-restart --ndjson, real Puma', function () {
  this.timeout(90_000)
  const start = stoppedAfter('afterEach', startPumaCluster)

  it('a line per event, sent first, a worker-booted per worker, the --json outcome last; nothing on stderr', async () => {
    const cluster = await start({workers: 2})
    const oldPids = cluster.workerPids()
    const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '30', '--ndjson'])
    assert.equal(result.code, 0, result.stderr + result.stdout)
    assert.equal(result.stderr, '', 'no progress lines on stderr')
    const lines = linesOf(result)
    const events = lines.slice(0, -1)
    const outcome = lines.at(-1)

    assert.equal(events[0].event, 'sent')
    assert.equal(events[0].signal, 'SIGUSR1')
    assert.equal(events[0].pid, cluster.pid)
    assert.ok(!Number.isNaN(Date.parse(events[0].at)), events[0].at)
    assert.ok(events.some((event) => event.event === 'phase-started' && event.phase === 1))
    const booted = events.filter((event) => event.event === 'worker-booted')
    assert.deepEqual(booted.map((event) => event.index).sort(), [0, 1])
    assert.deepEqual(booted.map((event) => event.oldPid).sort(), oldPids.sort())
    const stopping = events.filter((event) => event.event === 'worker-stopping').map((event) => event.pid)
    assert.deepEqual(stopping.sort(), oldPids.sort())

    assert.equal(outcome.outcome, 'done')
    assert.equal(outcome.exitCode, 0)
    // The same object --json prints: the same keys.
    const json = JSON.parse((await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json'])).stdout)
    assert.deepEqual(Object.keys(outcome).sort(), Object.keys(json).sort())
  })

  it('a broken release: the failure as it happens, then the error object --json prints, exit 5', async () => {
    const cluster = await start({workers: 2})
    cluster.setApp(RAISING_APP)
    const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '30', '--ndjson'])
    assert.equal(result.code, 5, result.stderr + result.stdout)
    assert.equal(result.stderr, '')
    const lines = linesOf(result)
    assert.equal(lines[0].event, 'sent')
    assert.ok(
      lines.some((line) => line.event === 'failure'),
      result.stdout,
    )
    const last = lines.at(-1)
    assert.equal(last.error.exitCode, 5)
    assert.equal(last.error.outcome, 'worker-failed')
    assert.match(last.error.message, /failed to boot/)
  })
})
