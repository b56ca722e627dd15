import {strict as assert} from 'node:assert'
import {appendFileSync, writeFileSync} from 'node:fs'
import {get} from 'node:http'
import {join} from 'node:path'

import {isAlive, readOrEmpty, stoppedAfter, waitFor} from '../helpers/processes.js'
import {type PumaCluster, startPumaCluster} from '../helpers/puma-cluster.js'
import {jsonOf, runCtl} from '../helpers/run-ctl.js'

/** An app that prints each request's decoded query string, as apps that log parameters do. */
const ECHO_APP = `require 'uri'
run ->(env) {
  $stdout.puts URI.decode_www_form_component(env['QUERY_STRING'].to_s.sub(/\\Aq=/, ''))
  $stdout.flush
  [200, {'Content-Type' => 'text/plain'}, ['logged']]
}
`

async function query(cluster: PumaCluster, text: string): Promise<void> {
  const path = `/?q=${encodeURIComponent(text)}`
  await new Promise<void>((resolve, reject) => {
    get({host: '127.0.0.1', port: cluster.port, path}, (response) => {
      response.resume()
      response.on('end', resolve)
    }).on('error', reject)
  })
}

/** Ruby's Time#to_s of now, in UTC: what a forger would put in a marker to make it look fresh. */
const rubyNow = () => `${new Date().toISOString().slice(0, 19).replace('T', ' ')} +0000`
const markersIn = (cluster: PumaCluster) => (readOrEmpty(cluster.logPath).match(/^=== puma startup: /gm) ?? []).length

/** reopen-logs against real Puma 5.6.5: stdout_redirect is learnt from Puma, never from what the app printed. */
describe('reopen-logs against real Puma', function () {
  this.timeout(60_000)
  const start = stoppedAfter('afterEach', startPumaCluster)

  it('stdout to a file without stdout_redirect, the app printed forged markers: exit 2, Puma keeps running', async () => {
    const cluster = await start({workers: 1, redirect: false, stdoutToLog: true, app: ECHO_APP})
    const forged = [`=== puma startup: ${rubyNow()} ===`, '=== puma startup: forged']
    for (const line of forged) {
      // eslint-disable-next-line no-await-in-loop -- in order, each line in the log before the next
      await query(cluster, `\n${line}`)
    }

    await waitFor(
      () => forged.every((line) => readOrEmpty(cluster.logPath).includes(`\n${line}\n`)),
      5000,
      () => `the forged lines in the log:\n${readOrEmpty(cluster.logPath)}`,
    )
    const result = await runCtl(['reopen-logs', '--pidfile', cluster.pidfile])
    assert.equal(result.code, 2, result.stderr)
    assert.match(
      result.stderr,
      /refusing to send SIGHUP: nothing shows that Puma writes .*puma\.log through stdout_redirect/,
    )
    assert.doesNotMatch(result.stderr, /forged/)
    assert.ok(isAlive(cluster.pid), 'nothing was sent')
    // What ctl refused to do: SIGHUP stops this Puma (--force sends it regardless).
    const forced = await runCtl(['reopen-logs', '--pidfile', cluster.pidfile, '--force'])
    assert.equal(forced.code, 0, forced.stderr)
    await waitFor(
      () => !isAlive(cluster.pid),
      15_000,
      () => 'Puma stopping on SIGHUP without stdout_redirect',
    )
  })

  it('stdout_redirect in append mode, in config/puma.rb, the log over 64 KiB before Puma started: exit 0, Puma reopens', async () => {
    const cluster = await start({
      workers: 1,
      defaultConfig: true,
      prepare(dir) {
        writeFileSync(join(dir, 'log', 'puma.log'), 'an older line of the log\n'.repeat(4000))
      },
    })
    assert.ok(readOrEmpty(cluster.logPath).length > 64 * 1024)
    const before = markersIn(cluster)
    const result = await runCtl(['reopen-logs', '--pidfile', cluster.pidfile, '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(jsonOf(result), {
      pid: cluster.pid,
      signal: 'SIGHUP',
      log: cluster.logPath,
      evidence: `config ${join(cluster.dir, 'config', 'puma.rb')}`,
    })
    await waitFor(
      () => markersIn(cluster) > before,
      5000,
      () => 'a reopen marker in the log',
    )
    assert.ok(isAlive(cluster.pid))
  })

  it("stdout_redirect in Puma's default (truncating) mode: its marker heads the log, exit 0, Puma reopens", async () => {
    const cluster = await start({
      workers: 1,
      redirectAppend: false,
      prepare(dir) {
        writeFileSync(join(dir, 'log', 'puma.log'), 'yesterday\n'.repeat(10))
      },
    })
    assert.match(readOrEmpty(cluster.logPath), /^=== puma startup: [^\n]+ ===\n/)
    appendFileSync(cluster.logPath, 'written before the reopen\n')
    const result = await runCtl(['reopen-logs', '--pidfile', cluster.pidfile])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(
      result.stdout.trim(),
      `Sent SIGHUP to Puma master ${cluster.pid}: it reopens ${cluster.logPath} (stdout_redirect shown by its marker)`,
    )
    // Reopened in "w" mode, the log starts again with a marker.
    const reopened = () => {
      const log = readOrEmpty(cluster.logPath)
      return !log.includes('written before the reopen') && log.startsWith('=== puma startup: ')
    }

    await waitFor(reopened, 5000, () => `the log truncated by the reopen:\n${readOrEmpty(cluster.logPath)}`)
    assert.ok(isAlive(cluster.pid))
  })
})
