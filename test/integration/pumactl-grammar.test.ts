import {strict as assert} from 'node:assert'

import {stoppedAfter} from '../helpers/processes.js'
import {type PumaCluster, startPumaCluster} from '../helpers/puma-cluster.js'
import {jsonOf, runCtl} from '../helpers/run-ctl.js'

/** A pumactl user's script with `pumactl` replaced by `ctl`, against real Puma 5.6.5. */
describe("pumactl's grammar, end to end", function () {
  this.timeout(60_000)
  const start = stoppedAfter('after', startPumaCluster)
  let cluster: PumaCluster

  before(async () => {
    cluster = await start({workers: 2, control: 'tcp'})
  })

  it('`ctl -S STATE -Q phased-restart`: options before the command; -Q keeps only the result', async () => {
    const result = await runCtl(['-S', cluster.statePath, '-Q', 'phased-restart', '--timeout', '30'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^Phased restart finished in .*: phase 1, 2\/2 workers booted/)
    assert.doesNotMatch(result.stderr, /Sent SIGUSR1|booted \(pid/, 'no notes or progress under -Q')
  })

  it('`ctl -P PIDFILE status`, `ctl -C URL -T TOKEN stats --json`', async () => {
    const status = await runCtl(['-P', cluster.pidfile, 'status', '--json'])
    assert.equal(status.code, 0, status.stderr)
    assert.equal(jsonOf(status).pid, cluster.pid)
    const url = `tcp://127.0.0.1:${cluster.controlPort}`
    const stats = await runCtl(['-C', url, '-T', 'test-token', 'stats', '--json'])
    assert.equal(stats.code, 0, stats.stderr)
    assert.equal(jsonOf(stats).bootedWorkers, 2)
  })

  it("`ctl -P PIDFILE reopen-log`: pumactl's name for reopen-logs", async () => {
    const result = await runCtl(['-P', cluster.pidfile, 'reopen-log', '--json'])
    assert.equal(result.code, 0, result.stderr + result.stdout)
    assert.equal(jsonOf(result).signal, 'SIGHUP')
  })

  it('a typo: exit 2 in one line with the nearest command, nothing sent; JSON under --json', async () => {
    const typo = await runCtl(['-S', cluster.statePath, 'phased-restrat'])
    assert.equal(typo.code, 2)
    assert.match(typo.stderr, /^Error: "phased-restrat" is not a ctl command: did you mean phased-restart\?$/m)
    const json = await runCtl(['phased-restrat', '--json'])
    assert.equal(json.code, 2)
    assert.equal(jsonOf(json).error.exitCode, 2)
    const after = await runCtl(['-S', cluster.statePath, 'stats', '--json'])
    assert.equal(jsonOf(after).phase, 1, 'only the one phased restart above')
  })
})
