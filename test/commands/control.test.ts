import {strict as assert} from 'node:assert'

import gcStats from '../../src/commands/gc-stats.js'
import stats from '../../src/commands/stats.js'
import {CtlError, EXIT} from '../../src/errors.js'
import {fakeContext, flagsOf} from '../helpers/command-context.js'
import {stoppedAfter} from '../helpers/processes.js'
import {type PumaCluster, startPumaCluster} from '../helpers/puma-cluster.js'

const TOKEN = 'tok-in-process-5e2f'

/** `ctl stats` and a control-only command in-process, against real Puma's control server (found by its state file). */
describe('stats and gc-stats (in-process)', function () {
  this.timeout(60_000)
  const start = stoppedAfter('after', startPumaCluster)
  let cluster: PumaCluster

  before(async () => {
    cluster = await start({workers: 2, control: 'tcp', controlToken: TOKEN})
  })

  it('stats: logs the header and a row a worker, and returns the normalized /stats', async () => {
    const {context, logged} = fakeContext()
    const result = await stats.run(flagsOf(stats, ['--state', cluster.statePath]), context)
    assert.equal(result.mode, 'cluster')
    assert.equal(result.phase, 0)
    assert.equal(result.bootedWorkers, 2)
    assert.deepEqual(result.workerStatus.map((w) => w.pid).sort(), cluster.workerPids().sort())
    assert.equal(logged.length, 1)
    const lines = logged[0].split('\n')
    assert.match(lines[0], /^cluster: phase 0, 2\/2 workers booted, 0 old, started \S+$/)
    assert.match(lines[2], /^INDEX\s+PID\s+PHASE\s+BOOTED\s+CHECK-IN\s+THREADS\s+BACKLOG\s+REQUESTS$/)
    for (const pid of cluster.workerPids())
      assert.ok(lines.some((line) => new RegExp(`^\\d\\s+${pid}\\s+0\\s+yes\\s`).test(line)))
    assert.ok(!logged[0].includes(TOKEN), 'the token was printed')
  })

  it('gc-stats: logs "key: value" lines and returns Puma\'s answer', async () => {
    const {context, logged} = fakeContext()
    const flags = flagsOf(gcStats, [
      '--control-url',
      `tcp://127.0.0.1:${cluster.controlPort}`,
      '--control-token',
      TOKEN,
    ])
    const answer: unknown = await gcStats.run(flags, context)
    assert.ok(answer && typeof answer === 'object', 'not a JSON object')
    assert.equal(typeof (answer as {count?: unknown}).count, 'number')
    assert.equal(logged.length, 1)
    assert.match(logged[0], /^count: \d+$/m)
    assert.ok(logged[0].split('\n').length === Object.keys(answer).length)
  })

  it('a refused token: exit 4, nothing logged', async () => {
    const {context, logged} = fakeContext()
    const flags = flagsOf(gcStats, [
      '--control-url',
      `tcp://127.0.0.1:${cluster.controlPort}`,
      '--control-token',
      'wrong',
    ])
    await assert.rejects(gcStats.run(flags, context), (error: CtlError) => error.exitCode === EXIT.notPermitted)
    assert.deepEqual(logged, [])
  })
})
