import {strict as assert} from 'node:assert'
import {setTimeout as delay} from 'node:timers/promises'

import {killQuietly, stoppedAfter, waitFor} from '../helpers/processes.js'
import {startPumaCluster} from '../helpers/puma-cluster.js'
import {jsonOf, runCtl, startCtl} from '../helpers/run-ctl.js'

/** Real Puma 5.6.5: --soak keeps watching the new workers after the restart is done. */
describe('--soak and --stall-timeout against real Puma', function () {
  this.timeout(90_000)
  const start = stoppedAfter('afterEach', startPumaCluster)

  it('a clean soak: exit 0 after about 3 s, with the usual report and soak {seconds: 3, ok: true}', async () => {
    const cluster = await start({workers: 2})
    const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--soak', '3', '--json'])
    assert.equal(result.code, 0, result.stderr + result.stdout)
    const report = jsonOf(result)
    assert.equal(report.outcome, 'done')
    assert.equal(report.phase, 1)
    assert.deepEqual(report.soak, {seconds: 3, ok: true})
    assert.ok(result.durationMs >= 3000, `ctl returned after ${result.durationMs} ms, before the soak ended`)
    assert.ok(report.durationMs < result.durationMs - 2500, "the report's duration is the restart's, not the soak's")
  })

  it('a new worker killed during the soak: exit 5 naming it and when it died', async () => {
    const cluster = await start({workers: 2})
    const run = startCtl(['phased-restart', '--pidfile', cluster.pidfile, '--soak', '3'])
    await waitFor(() => /every worker booted: soaking 3 s/.test(run.stderrSoFar()), 30_000)
    const [victim] = cluster.workerPids()
    // The scenario itself: a worker that dies a while into the soak, not at its start.
    await delay(1000)
    killQuietly(victim, 'SIGKILL')
    const result = await run.result
    assert.equal(result.code, 5, result.stderr + result.stdout)
    assert.match(
      result.stderr,
      new RegExp(`Worker \\d \\(pid ${victim}\\) died [12]\\.\\d s into the 3 s soak of phase 1`),
    )
    assert.ok(result.durationMs < 10_000, `ctl took ${result.durationMs} ms`)
  })

  it('--stall-timeout 3 with a new worker whose app hangs while loading: exit 6 naming it as booting, in about 3 s', async () => {
    const cluster = await start({workers: 2})
    cluster.setApp("sleep 60\nrun ->(env) { [200, {}, ['slow']] }\n")
    const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--stall-timeout', '3', '--json'])
    assert.equal(result.code, 6, result.stderr + result.stdout)
    const {error: report} = jsonOf(result)
    assert.equal(report.outcome, 'timed-out')
    assert.equal(report.stall.step, 'booting')
    assert.equal(typeof report.stall.pid, 'number')
    assert.ok(cluster.workerPids().includes(report.stall.pid), 'the pid named is a worker of the master')
    assert.match(report.message, /^Stalled: no progress for 3 s in phase 1: new worker pid \d+ has been booting for 3/)
    assert.ok(result.durationMs < 15_000, `ctl took ${result.durationMs} ms`)
  })

  it("no --stall-timeout: the default is Puma's own timeouts from config/puma.rb (1 + 1 + 15 s), not the 300 s --timeout", async () => {
    const cluster = await start({
      workers: 2,
      defaultConfig: true,
      extraConfig: 'worker_boot_timeout 1\nworker_shutdown_timeout 1\n',
    })
    // A master that cannot act (stopped) is stuck where Puma's own watchdogs do not reach.
    process.kill(cluster.pid, 'SIGSTOP')
    try {
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json'])
      assert.equal(result.code, 6, result.stderr + result.stdout)
      const {error: report} = jsonOf(result)
      assert.deepEqual(report.stall, {step: 'signal', seconds: 17, forSeconds: 17})
      assert.match(
        report.message,
        /^Stalled: no progress for 17 s: Puma has not started the restart 17 s after the signal/,
      )
      assert.ok(result.durationMs < 25_000, `ctl took ${result.durationMs} ms`)
    } finally {
      process.kill(cluster.pid, 'SIGCONT')
    }
  })
})
