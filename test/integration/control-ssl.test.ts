import {strict as assert} from 'node:assert'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createServer, type Server} from 'node:tls'

import {freePort, stoppedAfter} from '../helpers/processes.js'
import {startPumaCluster} from '../helpers/puma-cluster.js'
import {jsonOf, runCtl} from '../helpers/run-ctl.js'

/** ssl:// control servers (pumactl speaks them too): Puma 5.6.5's own on the loopback, and a stranger off it. */
describe('ssl:// control servers', function () {
  this.timeout(60_000)
  const start = stoppedAfter('afterEach', startPumaCluster)
  let certs: string

  before(() => {
    certs = mkdtempSync(join(tmpdir(), 'ctl-ssl-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=puma-control',
        '-days',
        '1',
        '-keyout',
        join(certs, 'key.pem'),
        '-out',
        join(certs, 'cert.pem'),
      ],
      {stdio: 'ignore'},
    )
  })

  after(() => rmSync(certs, {recursive: true, force: true}))

  it("Puma's self-signed control server on the loopback: stats and a phased restart through it (state file); exit 0", async () => {
    const port = await freePort()
    const url = `ssl://127.0.0.1:${port}?key=${join(certs, 'key.pem')}&cert=${join(certs, 'cert.pem')}`
    const cluster = await start({workers: 2, extraConfig: `activate_control_app '${url}', { auth_token: 'tls-token' }`})
    const stats = await runCtl(['stats', '--state', cluster.statePath, '--json'])
    assert.equal(stats.code, 0, stats.stderr)
    assert.equal(jsonOf(stats).bootedWorkers, 2)
    const restart = await runCtl(['phased-restart', '--state', cluster.statePath, '--via', 'control', '--json'])
    assert.equal(restart.code, 0, restart.stderr + restart.stdout)
    assert.equal(jsonOf(restart).phase, 1)
    assert.doesNotMatch(stats.stdout + restart.stdout + restart.stderr, /tls-token/)
  })

  it('off the loopback, a certificate nothing vouches for: exit 4, and the token is never sent', async function () {
    const address = execFileSync('hostname', ['-I'], {encoding: 'utf8'})
      .split(/\s+/)
      .find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip) && !ip.startsWith('127.'))
    if (!address) this.skip()
    const received: Buffer[] = []
    const server: Server = createServer({
      key: readFileSync(join(certs, 'key.pem')),
      cert: readFileSync(join(certs, 'cert.pem')),
    })
    server.on('secureConnection', (socket) => socket.on('data', (chunk) => received.push(chunk)))
    server.on('tlsClientError', () => {})
    await new Promise<void>((resolve) => {
      server.listen(0, address, resolve)
    })
    try {
      const {port} = server.address() as {port: number}
      const result = await runCtl([
        'stats',
        '--control-url',
        `ssl://${address}:${port}`,
        '--control-token',
        'never-sent',
        '--json',
      ])
      assert.equal(result.code, 4, result.stdout + result.stderr)
      assert.match(
        jsonOf(result).error.message,
        /certificate .* is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\): nothing was sent/,
      )
      assert.equal(Buffer.concat(received).length, 0, 'no request, no token')
    } finally {
      server.close()
    }
  })
})
