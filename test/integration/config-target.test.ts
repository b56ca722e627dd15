import {strict as assert} from 'node:assert'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {stoppedAfter} from '../helpers/processes.js'
import {type PumaCluster, startPumaCluster} from '../helpers/puma-cluster.js'
import {jsonOf, runCtl, startCtl} from '../helpers/run-ctl.js'

/**
 * Puma's config as pumactl reads it, against two real Puma 5.6.5 apps at once (so that a process
 * scan would be ambiguous): each app's config/puma.rb names its pidfile, state file and control
 * server, and ctl finds the right master from the app's folder with no flag, or with -F.
 */
describe("Puma's config file names the master (pumactl's -F and default config files)", function () {
  this.timeout(60_000)
  const start = stoppedAfter('after', startPumaCluster)
  let one: PumaCluster
  let two: PumaCluster

  before(async () => {
    ;[one, two] = await Promise.all([
      start({workers: 2, control: 'tcp', defaultConfig: true}),
      start({workers: 2, control: 'tcp', defaultConfig: true}),
    ])
  })

  it('no flag, from each app folder: the default config/puma.rb names its own master (status says so)', async () => {
    for (const app of [one, two]) {
      // eslint-disable-next-line no-await-in-loop -- one app after the other
      const status = await runCtl(['status', '--json'], {cwd: app.dir})
      assert.equal(status.code, 0, status.stderr)
      const json = jsonOf(status)
      assert.equal(json.pid, app.pid)
      assert.match(json.foundBy, /^state file .*puma-test\.state \(named by config\/puma\.rb, read statically\)$/)
    }
  })

  it('`ctl stats` and `ctl -F config/puma.rb phased-restart`, where pumactl reads the config too', async () => {
    const stats = await runCtl(['stats', '--json'], {cwd: one.dir})
    assert.equal(stats.code, 0, stats.stderr)
    assert.equal(jsonOf(stats).bootedWorkers, 2)
    const restart = await runCtl(['-F', join(two.dir, 'config', 'puma.rb'), 'phased-restart', '--json'], {cwd: one.dir})
    assert.equal(restart.code, 0, restart.stderr + restart.stdout)
    assert.equal(jsonOf(restart).phase, 1)
    const untouched = await runCtl(['stats', '--json'], {cwd: one.dir})
    assert.equal(jsonOf(untouched).phase, 0, 'the other app was not restarted')
  })

  it('-e picks config/puma/ENV.rb first, as pumactl does', async () => {
    const envConfig = join(one.dir, 'config', 'puma', 'staging.rb')
    mkdirSync(join(one.dir, 'config', 'puma'), {recursive: true})
    writeFileSync(envConfig, `pidfile '${one.pidfile}'\n`)
    try {
      const staging = await runCtl(['-e', 'staging', 'status', '--json'], {cwd: one.dir})
      assert.equal(staging.code, 0, staging.stderr)
      assert.match(jsonOf(staging).foundBy, /^pidfile .* \(named by config\/puma\/staging\.rb, read statically\)$/)
      const byEnv = await runCtl(['status', '--json'], {cwd: one.dir, env: {RAILS_ENV: 'staging'}})
      assert.match(jsonOf(byEnv).foundBy, /named by config\/puma\/staging\.rb/)
      const development = await runCtl(['status', '--json'], {cwd: one.dir})
      assert.match(jsonOf(development).foundBy, /named by config\/puma\.rb/)
    } finally {
      rmSync(envConfig)
    }
  })

  it("SIGTERM while Puma's own reading of a config runs (it cannot be cut short): exit 143, saying so", async () => {
    const app = mkdtempSync(join(tmpdir(), 'ctl-slow-config-'))
    try {
      mkdirSync(join(app, 'config'))
      // Only Puma's reading can evaluate a method the file defines; this one takes its time.
      writeFileSync(
        join(app, 'config', 'puma.rb'),
        "def slow_path\n  sleep 3\n  'tmp/slow.pid'\nend\npidfile slow_path\n",
      )
      const run = startCtl(['status'], {cwd: app})
      await new Promise((resolve) => {
        setTimeout(resolve, 700)
      })
      run.child.kill('SIGTERM')
      const result = await run.result
      assert.equal(result.code, 143, result.stderr)
      assert.match(result.stderr, /^Error: SIGTERM received, then /)
    } finally {
      rmSync(app, {recursive: true, force: true})
    }
  })
})
