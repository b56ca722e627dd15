import {strict as assert} from 'node:assert'
import {mkdirSync, readlinkSync, renameSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {httpGet} from '../helpers/http.js'
import {stoppedAfter} from '../helpers/processes.js'
import {startPumaCluster} from '../helpers/puma-cluster.js'
import {jsonOf, runCtl} from '../helpers/run-ctl.js'

const appOf = (release: string) =>
  `run ->(env) { env['PATH_INFO'] == '/fail' ? [500, {}, ['broken ${release}']] : [200, {}, ['${release}']] }\n`

/** A Capistrano-style layout: releases/r1 and r2, and `current` pointing to r1. */
function releases(dir: string): void {
  for (const release of ['r1', 'r2']) {
    mkdirSync(join(dir, 'releases', release), {recursive: true})
    writeFileSync(join(dir, 'releases', release, 'config.ru'), appOf(release))
  }

  symlinkSync(join(dir, 'releases', 'r1'), join(dir, 'current'))
}

/** Points `current` at r2 atomically, as a deploy does. */
function publish(dir: string): void {
  symlinkSync(join(dir, 'releases', 'r2'), join(dir, 'current.new'))
  renameSync(join(dir, 'current.new'), join(dir, 'current'))
  assert.equal(readlinkSync(join(dir, 'current')), join(dir, 'releases', 'r2'))
}

/** Post-restart checks against real Puma: the release folder and a health probe. */
describe('proving the new release runs', function () {
  this.timeout(60_000)
  const start = stoppedAfter('afterEach', startPumaCluster)

  it('--expect-dir: Puma started in the resolved release folder reloads the old code: warned before, exit 8 after', async () => {
    const cluster = await start({workers: 2, prepare: releases, runIn: 'releases/r1'})
    publish(cluster.dir)
    const current = join(cluster.dir, 'current')
    const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--expect-dir', current])
    assert.equal(result.code, 8, result.stderr)
    assert.match(
      result.stderr,
      new RegExp(`Puma was started in ${join(cluster.dir, 'releases', 'r1')}, not through ${current}`),
    )
    assert.match(
      result.stderr,
      new RegExp(
        `workers still run ${join(cluster.dir, 'releases', 'r1')} but ${current} points to ${join(cluster.dir, 'releases', 'r2')}`,
      ),
    )
    assert.match(result.stderr, /set `directory/)
  })

  it('--expect-dir: Puma started through the `current` symlink picks up the new release: exit 0, no warning', async () => {
    // Puma's restart folder is then $PWD, the symlink, which the phased restart resolves anew.
    const cluster = await start({workers: 2, prepare: releases, runIn: 'current'})
    publish(cluster.dir)
    const result = await runCtl([
      'phased-restart',
      '--pidfile',
      cluster.pidfile,
      '--expect-dir',
      join(cluster.dir, 'current'),
      '--json',
    ])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(jsonOf(result).workers.length, 2)
    assert.doesNotMatch(result.stderr, /Puma was started in/)
  })

  it('a broken release: the failure names the release the old workers still run, for a rollback to exactly that', async () => {
    const cluster = await start({workers: 2, prepare: releases, runIn: 'current'})
    writeFileSync(join(cluster.dir, 'releases', 'r2', 'config.ru'), "raise 'boom: r2 does not load'\n")
    publish(cluster.dir)
    const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json'])
    assert.equal(result.code, 5, result.stderr)
    const {error} = jsonOf(result)
    const r1 = join(cluster.dir, 'releases', 'r1')
    assert.equal(error.oldRelease, r1)
    assert.ok(error.message.endsWith(`; the old workers run ${r1}`), error.message)
    assert.deepEqual(await httpGet(`http://127.0.0.1:${cluster.port}/`), {status: 200, body: 'r1'})
  })

  it('--health-url: a 2xx after the restart is recorded; a 500 exits 8 with the status and body', async () => {
    const cluster = await start({workers: 2, app: appOf('r1')})
    const ok = await runCtl([
      'phased-restart',
      '--pidfile',
      cluster.pidfile,
      '--health-url',
      `http://127.0.0.1:${cluster.port}/`,
      '--json',
    ])
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(jsonOf(ok).health.status, 200)
    const failing = await runCtl([
      'phased-restart',
      '--pidfile',
      cluster.pidfile,
      '--health-url',
      `http://127.0.0.1:${cluster.port}/fail`,
      '--health-timeout',
      '2',
    ])
    assert.equal(failing.code, 8, failing.stderr)
    assert.match(
      failing.stderr,
      /health check http:\/\/127\.0\.0\.1:\d+\/fail failed after the restart: HTTP 500: "broken r1"/,
    )
  })
})
