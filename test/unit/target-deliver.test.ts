import {strict as assert} from 'node:assert'
import {type ChildProcess, spawn} from 'node:child_process'
import {once} from 'node:events'
import {type AddressInfo, createServer, type Server} from 'node:net'

import {deliver} from '../../src/actions/deliver.js'
import {stopServer} from '../../src/actions/stop.js'
import {type ControlEndpoint} from '../../src/control/client.js'
import {CtlError, EXIT} from '../../src/errors.js'
import {type Reach} from '../../src/target/index.js'
import {startTicks} from '../../src/target/liveness.js'
import {type PumaMaster} from '../../src/target/scan.js'

const isUsageError = (message: RegExp) => (error: unknown) =>
  error instanceof CtlError && error.exitCode === EXIT.usage && message.test(error.message)

/**
 * A stand-in for Puma's control app: answers every request 200 and records its request line;
 * `closeAfter` is a path after whose answer it stops listening (as Puma does after /stop).
 */
async function controlServer(
  closeAfter?: string,
  onRequest?: (line: string) => void,
): Promise<{control: ControlEndpoint; requests: string[]; server: Server}> {
  const requests: string[] = []
  const server = createServer((socket) => {
    let head = ''
    socket.on('data', (chunk) => {
      head += chunk.toString('utf8')
      if (!head.includes('\r\n\r\n')) return
      const line = head.split('\r\n')[0]
      requests.push(line)
      onRequest?.(line)
      socket.end('HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{}')
      if (closeAfter && line.startsWith(`GET /${closeAfter}`)) server.close()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const {port} = server.address() as AddressInfo
  return {server, requests, control: {url: `tcp://127.0.0.1:${port}`, token: 'tok', origin: '--control-url'}}
}

describe('target: delivering to a Reach', () => {
  let sleeper: ChildProcess
  let master: PumaMaster
  const servers: Server[] = []

  before(() => {
    sleeper = spawn('sleep', ['60'])
    const pid = sleeper.pid!
    master = {pid, startTicks: startTicks(pid), cmd: 'puma 6.4.2 (tcp://0.0.0.0:9292)', binds: [], workers: []}
  })

  after(() => {
    sleeper.kill('SIGKILL')
    for (const server of servers) server.close()
  })

  const served = async (closeAfter?: string, onRequest?: (line: string) => void) => {
    const fake = await controlServer(closeAfter, onRequest)
    servers.push(fake.server)
    return fake
  }

  it('by signal to the master (SIGURG for refork: sleep ignores it)', async () => {
    const to: Reach = {kind: 'master', target: {master, origin: 'test'}}
    assert.deepEqual(await deliver('refork', to, {via: 'signal'}), {via: 'signal', sent: 'SIGURG', warnings: []})
  })

  it('by signal when only a control server is known: exit 2, and nothing is sent', async () => {
    const {control, requests} = await served()
    await assert.rejects(
      deliver('restart', {kind: 'control', control}, {via: 'signal'}),
      isUsageError(/cannot send restart by signal: no master PID is known/),
    )
    assert.deepEqual(requests, [])
  })

  it("through the master's control server: one GET with the token", async () => {
    const {control, requests} = await served()
    const to: Reach = {kind: 'master', target: {master, origin: 'test'}, control}
    assert.deepEqual(await deliver('phased-restart', to, {via: 'control'}), {
      via: 'control',
      sent: 'GET /phased-restart',
      warnings: [],
    })
    assert.deepEqual(requests, ['GET /phased-restart?token=tok HTTP/1.0'])
  })

  it('through the control server when none is known: exit 2', async () => {
    await assert.rejects(
      deliver('stop', {kind: 'master', target: {master, origin: 'test'}}, {via: 'control'}),
      isUsageError(/cannot send stop through the control server: no control URL is known/),
    )
  })

  it('stop with only a control server: sent through it, done when it no longer listens', async () => {
    const {control, requests} = await served('stop')
    const result = await stopServer({kind: 'control', control}, {command: 'stop', via: 'control', timeoutMs: 5000})
    assert.equal(result.pid, undefined)
    assert.equal(result.sent, 'GET /stop')
    assert.equal(requests[0], 'GET /stop?token=tok HTTP/1.0')
  })

  it('stop with only a control server that keeps answering: exit 6 at the deadline, naming the URL', async () => {
    const {control, requests} = await served()
    await assert.rejects(
      stopServer({kind: 'control', control}, {command: 'stop', via: 'control', timeoutMs: 300}),
      (error: CtlError) =>
        error.exitCode === EXIT.timedOut &&
        error.message === `the Puma at ${control.url} is still running 0 s after GET /stop`,
    )
    assert.equal(requests[0], 'GET /stop?token=tok HTTP/1.0')
    assert.ok(requests.slice(1).every((line) => line.startsWith('GET /stats')) && requests.length > 1)
  })

  it('stop with only a control server, Ctrl-C while waiting for it to close: exit 130', async () => {
    const interrupt = new AbortController()
    // Aborted on the first look after the stop: the wait must end then, not at its 60 s deadline.
    const {control} = await served(undefined, (line) => line.startsWith('GET /stats') && interrupt.abort())
    await assert.rejects(
      stopServer(
        {kind: 'control', control},
        {command: 'stop', via: 'control', timeoutMs: 60_000, signal: interrupt.signal},
      ),
      // The abort lands while that look's request is under way, or in the pause after it.
      (error: CtlError) =>
        error.exitCode === EXIT.interrupted &&
        /^(stopped waiting: the Puma at .* had been sent GET \/stop and was still running|interrupted while talking to Puma's control server)/.test(
          error.message,
        ),
    )
  })
})
