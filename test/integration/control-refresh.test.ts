import {strict as assert} from 'node:assert'
import {mkdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {parseStateFile, type PumaState} from '../../src/target/state-file.js'
import {isAlive, stoppedAfter} from '../helpers/processes.js'
import {startPumaCluster} from '../helpers/puma-cluster.js'
import {jsonOf, runCtl} from '../helpers/run-ctl.js'

const stateOf = (path: string): PumaState => parseStateFile(readFileSync(path, 'utf8'), path)

/** Neither the token from before the restart nor the one after it appears in anything ctl printed. */
function assertNoToken(output: string, ...states: PumaState[]): void {
  for (const {controlAuthToken} of states) {
    assert.ok(controlAuthToken && controlAuthToken.length >= 8, 'Puma wrote a random token')
    assert.ok(!output.includes(controlAuthToken), 'a token was printed')
  }
}

/**
 * Real Puma 5.6.5 whose control token (and, with a bare activate_control_app, its socket) is new
 * at every boot: after a hot restart ctl reads the state file again, and uses what it says only
 * while it still names the same master.
 */
describe('the control server after a hot restart (real Puma 5.6.5)', function () {
  this.timeout(90_000)
  const start = stoppedAfter('afterEach', startPumaCluster)

  it('restart --state with an unpinned token: /stats confirms the log with the new token, exit 0', async () => {
    const cluster = await start({workers: 2, control: 'tcp', controlToken: false})
    const before = stateOf(cluster.statePath)
    const result = await runCtl(['restart', '--state', cluster.statePath, '--json', '--timeout', '60'])
    const after = stateOf(cluster.statePath)
    assert.equal(result.code, 0, result.stderr + result.stdout)
    assert.equal(jsonOf(result).restart, 'hot')
    assert.equal(after.pid, cluster.pid, 'the same master')
    assert.notEqual(after.controlAuthToken, before.controlAuthToken, 'Puma wrote a new token')
    assertNoToken(result.stdout + result.stderr, before, after)
  })

  it('restart --state with a bare activate_control_app and no log: /stats at the new socket, exit 0 in seconds', async () => {
    const cluster = await start({workers: 2, control: 'auto', controlToken: false, redirect: false})
    const before = stateOf(cluster.statePath)
    const result = await runCtl(['restart', '--state', cluster.statePath, '--timeout', '60'])
    const after = stateOf(cluster.statePath)
    assert.equal(result.code, 0, result.stderr + result.stdout)
    assert.ok(result.durationMs < 20_000, `took ${result.durationMs} ms`)
    assert.match(result.stdout, /^Hot restart finished in/m)
    assert.notEqual(after.controlUrl, before.controlUrl, 'Puma opened a new socket')
    assertNoToken(result.stdout + result.stderr, before, after)
    assert.ok(isAlive(cluster.pid))
  })

  it('restart with no flags, from the folder whose tmp/pids/puma.state has an unpinned token: exit 0', async () => {
    const cluster = await start({
      workers: 2,
      control: 'unix',
      controlToken: false,
      state: 'tmp/pids/puma.state',
      prepare: (dir) => mkdirSync(join(dir, 'tmp', 'pids'), {recursive: true}),
    })
    const before = stateOf(cluster.statePath)
    const result = await runCtl(['restart', '--json', '--timeout', '60'], {cwd: cluster.dir})
    assert.equal(result.code, 0, result.stderr + result.stdout)
    assert.equal(jsonOf(result).restart, 'hot')
    assertNoToken(result.stdout + result.stderr, before, stateOf(cluster.statePath))
  })

  it('a --control-url is never read again: the refused token says why, and no token is printed (exit 4)', async () => {
    const cluster = await start({workers: 2, control: 'tcp', controlToken: false})
    const before = stateOf(cluster.statePath)
    const result = await runCtl([
      'restart',
      '--pid',
      String(cluster.pid),
      '--control-url',
      before.controlUrl!,
      '--control-token',
      before.controlAuthToken!,
      '--timeout',
      '60',
      '--json',
    ])
    assert.equal(result.code, 4, result.stderr + result.stdout)
    const output = result.stdout + result.stderr
    assert.match(output, /refused the token/)
    assert.match(output, /Puma writes a new one at each boot unless the config pins it/)
    assert.match(output, /never reads a --control-url again/)
    assertNoToken(output, before, stateOf(cluster.statePath))
  })

  describe('Puma 8.0.2, where workers 2 preloads by default and USR1 is a hot restart', () => {
    it('phased-restart --state of a default config (unpinned token, tcp): exit 0', async () => {
      const cluster = await start({workers: 2, control: 'tcp', controlToken: false, version: '8.0.2'})
      const before = stateOf(cluster.statePath)
      const result = await runCtl(['phased-restart', '--state', cluster.statePath, '--json', '--timeout', '60'])
      assert.equal(result.code, 0, result.stderr + result.stdout)
      assert.equal(jsonOf(result).restart, 'hot')
      assertNoToken(result.stdout + result.stderr, before, stateOf(cluster.statePath))
    })

    it('restart --state with a bare activate_control_app and no log: exit 0 in seconds', async () => {
      const cluster = await start({workers: 2, control: 'auto', controlToken: false, redirect: false, version: '8.0.2'})
      const before = stateOf(cluster.statePath)
      const result = await runCtl(['restart', '--state', cluster.statePath, '--timeout', '60'])
      assert.equal(result.code, 0, result.stderr + result.stdout)
      assert.ok(result.durationMs < 20_000, `took ${result.durationMs} ms`)
      assertNoToken(result.stdout + result.stderr, before, stateOf(cluster.statePath))
    })
  })
})
