import {strict as assert} from 'node:assert'

import {readOrEmpty, stoppedAfter} from '../helpers/processes.js'
import {startPumaCluster} from '../helpers/puma-cluster.js'
import {jsonOf, runCtl} from '../helpers/run-ctl.js'

/**
 * `ctl refork` against real Puma 5.6.5, whose banner has no refork mark (6.6.1+ has it): the process
 * tree tells fork_worker (workers 1.. are worker 0's children), and Puma's answer decides the rest.
 */
describe('refork against real Puma 5.6.5', function () {
  this.timeout(90_000)
  const start = stoppedAfter('afterEach', startPumaCluster)

  it('with fork_worker: exit 0 once workers 1.. are reforked and booted; worker 0 keeps its pid', async () => {
    const cluster = await start({workers: 3, extraConfig: 'fork_worker 0'})
    const before = cluster.workerPids()
    const result = await runCtl(['refork', '--pidfile', cluster.pidfile, '--timeout', '30', '--json'])
    assert.equal(result.code, 0, result.stderr + result.stdout)
    const report = jsonOf(result)
    assert.equal(report.outcome, 'done')
    assert.equal(report.restart, 'refork')
    assert.equal(report.phase, 1)
    assert.deepEqual(report.workers.map((w: {index: number}) => w.index).sort(), [1, 2])
    // Puma before 6.6.1 logs a refork as a phased restart, and never restarts worker 0.
    const log = readOrEmpty(cluster.logPath)
    assert.match(log, /Starting phased worker restart, phase: 1/)
    const after = cluster.workerPids()
    assert.ok(after.includes(before[0]), 'worker 0 kept its pid')
    for (const worker of report.workers) {
      assert.ok(after.includes(worker.newPid), 'the new worker lives')
      assert.ok(!before.includes(worker.newPid), 'and is new')
    }
  })

  it("through the control server's /refork, /stats confirming the end: exit 0", async () => {
    const cluster = await start({workers: 2, control: 'tcp', extraConfig: 'fork_worker 0'})
    const result = await runCtl(['refork', '--state', cluster.statePath, '--via', 'control', '--timeout', '30'])
    assert.equal(result.code, 0, result.stderr + result.stdout)
    assert.match(result.stdout, /^Refork finished in .*: phase 1, 1\/1 workers booted/)
    assert.match(result.stderr, /^Sent GET \/refork/m)
  })

  it("without fork_worker: refused before anything is sent (every worker is the master's own child); exit 2", async () => {
    const cluster = await start({workers: 2})
    const before = cluster.workerPids()
    const result = await runCtl(['refork', '--pidfile', cluster.pidfile, '--timeout', '2'])
    assert.equal(result.code, 2, result.stderr)
    assert.match(
      result.stderr,
      /refusing: fork_worker is not configured \(every worker is the master's own child, none forked from worker 0\)/,
    )
    assert.doesNotMatch(result.stderr, /Sent /)
    assert.deepEqual(cluster.workerPids(), before, 'nothing happened to the workers')
  })
})
