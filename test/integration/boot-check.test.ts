import {strict as assert} from 'node:assert'
import {mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync} from 'node:fs'
import {get} from 'node:http'
import {join} from 'node:path'

import {isAlive, stoppedAfter, workerPidsOf} from '../helpers/processes.js'
import {OK_APP, type PumaCluster, RAISING_APP, startPumaCluster} from '../helpers/puma-cluster.js'
import {jsonOf, runCtl} from '../helpers/run-ctl.js'

const NOT_BOOTING =
  /^the new release does not boot: RuntimeError: boom: simulated boot failure; the running server was not touched$/

/** What the site answers now: the status of GET / on the cluster's port. */
async function answers(cluster: PumaCluster): Promise<number> {
  return new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${cluster.port}/`, (response) => {
      response.resume()
      response.on('end', () => resolve(response.statusCode ?? 0))
    }).on('error', reject)
  })
}

/**
 * The boot check before a hot restart, against real Puma: a broken release is refused before the
 * signal (exit 5), the master keeps its PID and its workers and the site keeps answering; a good
 * release restarts as before, with the check's result in --json.
 */
describe('the boot check before a hot restart, real Puma', function () {
  this.timeout(90_000)
  const start = stoppedAfter('afterEach', startPumaCluster)

  it('Puma 8.0.2, its defaults (workers 2: preload, so USR1 is a hot restart): `ctl phased-restart` and `ctl restart` of a broken release are refused, nothing sent', async () => {
    const cluster = await start({version: '8.0.2', workers: 2})
    const workers = cluster.workerPids()
    cluster.setApp(RAISING_APP)
    const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '20', '--json'])
    assert.equal(result.code, 5, result.stderr + result.stdout)
    const json = jsonOf(result)
    assert.match(json.error.message, NOT_BOOTING)
    assert.equal(json.error.check.ok, false)
    assert.ok(
      json.error.details.some((line: string) => line.includes('config.ru:1')),
      json.error.details,
    )
    assert.equal(isAlive(cluster.pid), true, 'the master still runs')
    assert.deepEqual(workerPidsOf(cluster.pid).sort(), workers.sort(), 'the same workers: nothing was sent')
    assert.equal(await answers(cluster), 200)

    const text = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '20'])
    assert.equal(text.code, 5)
    assert.match(text.stderr, /^Error: the new release does not boot: RuntimeError: boom/m)
    assert.ok(!readFileSync(cluster.logPath, 'utf8').includes('phased-restart called'), 'Puma never got a USR1')

    const hot = await runCtl(['restart', '--pidfile', cluster.pidfile, '--timeout', '20'])
    assert.equal(hot.code, 5, hot.stderr)
    assert.match(hot.stderr, /^Error: the new release does not boot: RuntimeError: boom/m)
    assert.deepEqual(workerPidsOf(cluster.pid).sort(), workers.sort(), 'ctl restart sent nothing either')
    assert.ok(!readFileSync(cluster.logPath, 'utf8').includes('Restarting...'), 'Puma never got a USR2')
    assert.equal(await answers(cluster), 200)
  })

  it('Puma 8.0.2, its defaults: a good release restarts as before, and --json says check {ok: true, durationMs}', async () => {
    const cluster = await start({version: '8.0.2', workers: 2})
    const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '20', '--json'])
    assert.equal(result.code, 0, result.stderr + result.stdout)
    const report = jsonOf(result)
    assert.equal(report.restart, 'hot')
    assert.equal(report.check.ok, true)
    assert.ok(
      !report.warnings.some((w: string) => /boot check loaded Puma/.test(w)),
      "the check loaded the master's own Puma 8.0.2",
    )
    assert.equal(typeof report.check.durationMs, 'number')
    assert.equal(report.check.folder, cluster.dir)
    assert.equal(await answers(cluster), 200)
    const text = await runCtl(['restart', '--pidfile', cluster.pidfile, '--timeout', '20'])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stderr, /^✔ The new release boots \(checked in \d+\.\d s\)$/m)
  })

  it('Puma 5.6.5 `ctl restart` (USR2) of a broken release: exit 5, the master alive; --no-check sends it anyway', async () => {
    const cluster = await start({workers: 2})
    cluster.setApp(RAISING_APP)
    const result = await runCtl(['restart', '--pidfile', cluster.pidfile, '--timeout', '20'])
    assert.equal(result.code, 5, result.stderr)
    assert.match(result.stderr, /^Error: the new release does not boot: RuntimeError: boom/m)
    assert.equal(isAlive(cluster.pid), true)
    assert.equal(await answers(cluster), 200)
    const unchecked = await runCtl(['restart', '--pidfile', cluster.pidfile, '--timeout', '20', '--no-check', '--json'])
    assert.equal(jsonOf(unchecked).error.check, undefined, 'no check ran')
    assert.ok(readFileSync(cluster.logPath, 'utf8').includes('Restarting...'), 'the USR2 was sent')
  })

  it("runs as the master's user, not as ctl's root; --check-command runs the user's own check there", async () => {
    const cluster = await start({workers: 2, runAs: 'ctltest_a'}) // Debian's Puma: the builds live under root's home
    cluster.setApp(
      `File.write('${join(cluster.dir, 'uid')}', Process.uid.to_s)\nraise 'boom: simulated boot failure'\n`,
    )
    const result = await runCtl(['restart', '--pidfile', cluster.pidfile, '--timeout', '20'])
    assert.equal(result.code, 5, result.stderr)
    assert.match(result.stderr, /^Error: the new release does not boot: RuntimeError: boom/m)
    assert.equal(readFileSync(join(cluster.dir, 'uid'), 'utf8'), '999')
    const own = await runCtl([
      'phased-restart',
      '--pidfile',
      cluster.pidfile,
      '--timeout',
      '20',
      '--check-command',
      'id -u; test ! -e uid',
    ])
    assert.equal(own.code, 5, own.stderr)
    assert.match(own.stderr, /^Error: the new release does not boot: id -u; test ! -e uid exited with status 1/m)
    assert.match(own.stderr, /^999$/m)
    assert.equal(isAlive(cluster.pid), true)
  })

  it('started through a `current` symlink: the release it points to now is checked, not the one the master runs in', async () => {
    const release = (dir: string, name: string, app: string) => {
      mkdirSync(join(dir, 'releases', name), {recursive: true})
      writeFileSync(join(dir, 'releases', name, 'config.ru'), app)
      symlinkSync(join(dir, 'releases', name), join(dir, 'current.new'))
      renameSync(join(dir, 'current.new'), join(dir, 'current')) // a deploy's atomic switch
    }

    const cluster = await start({workers: 2, runIn: 'current', prepare: (dir) => release(dir, '1', OK_APP)})
    release(cluster.dir, '2', RAISING_APP)
    const result = await runCtl(['restart', '--pidfile', cluster.pidfile, '--timeout', '20', '--json'])
    assert.equal(result.code, 5, result.stdout)
    assert.equal(jsonOf(result).error.check.folder, join(cluster.dir, 'current'))
    assert.equal(isAlive(cluster.pid), true)
    release(cluster.dir, '3', OK_APP)
    const good = await runCtl(['restart', '--pidfile', cluster.pidfile, '--timeout', '20', '--json'])
    assert.equal(good.code, 0, good.stdout + good.stderr)
    assert.equal(await answers(cluster), 200)
  })
})
