import {strict as assert} from 'node:assert'
import {once} from 'node:events'
import {createServer as createHttpServer, type Server as HttpServer, type ServerResponse} from 'node:http'
import {type AddressInfo, createServer, type Server, type Socket} from 'node:net'

import {type ControlEndpoint, controlRequest} from '../../src/control/client.js'
import {EXIT} from '../../src/errors.js'
import {AnswerBytes, MAX_ANSWER_BYTES} from '../../src/net/answer.js'
import {probeHealth} from '../../src/restart/checks.js'
import {rejection} from '../helpers/assertions.js'

const MiB = 1024 * 1024

/** What a remote end saw: how many bytes the kernel took from it before the reader went away, and when it did. */
interface Sent {
  bytes: number
  closed: Promise<void>
}

/** A Sent whose `closed` settles when `close` is called. */
function counter(): Sent & {close(): void} {
  let close!: () => void
  const closed = new Promise<void>((resolve) => {
    close = resolve
  })
  return {bytes: 0, closed, close}
}

/**
 * Writes `total` bytes of body after `head`, waiting for each chunk to be taken (so `sent.bytes` is
 * what reached the reader's side, not what piled up here), until done or the reader closes.
 */
function pour(stream: NodeJS.WritableStream & {destroyed: boolean}, total: number, sent: Sent): void {
  const chunk = Buffer.alloc(256 * 1024, 'x')
  const next = () => {
    if (stream.destroyed || sent.bytes >= total) return
    stream.write(chunk, (error) => {
      if (error) return
      sent.bytes += chunk.length
      next()
    })
  }

  next()
}

/** Writes one byte every `everyMs` until the reader closes. */
function trickle(stream: NodeJS.WritableStream & {destroyed: boolean}, everyMs: number): void {
  const timer = setInterval(() => {
    if (stream.destroyed) clearInterval(timer)
    else stream.write('.')
  }, everyMs)
  stream.on('close', () => clearInterval(timer))
}

/** The servers a test started, closed after it. */
const servers: Array<HttpServer | Server> = []

/** A fake control server: `answer` gets each connection once its request has arrived. */
async function controlServer(answer: (socket: Socket, sent: Sent) => void) {
  const sent = counter()
  const server = createServer((socket) => {
    socket.on('error', () => {}) // the reader going away mid-answer
    socket.on('close', sent.close)
    socket.once('data', () => answer(socket, sent))
  })
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const {port} = server.address() as AddressInfo
  const control: ControlEndpoint = {url: `tcp://127.0.0.1:${port}`, token: 'tok', origin: '--control-url'}
  return {control, sent}
}

/** A health endpoint that answers as `handle` says; counts its requests. */
async function healthServer(handle: (response: ServerResponse, sent: Sent) => void) {
  const sent = counter()
  let requests = 0
  const server = createHttpServer((_request, response) => {
    requests++
    response.on('close', sent.close)
    handle(response, sent)
  })
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const {port} = server.address() as AddressInfo
  return {url: `http://127.0.0.1:${port}/up`, sent, requests: () => requests}
}

describe('remote answers: a total deadline and a size cap', () => {
  afterEach(() => {
    for (const server of servers.splice(0)) server.close()
  })

  describe('AnswerBytes', () => {
    it('keeps what arrives up to the cap, and refuses (holding nothing) once an answer is larger', () => {
      const answer = new AnswerBytes(10)
      assert.equal(answer.add(Buffer.from('hello ')), true)
      assert.equal(answer.add(Buffer.from('you!')), true)
      assert.equal(answer.text(), 'hello you!')
      assert.equal(answer.add(Buffer.from('x')), false)
      assert.equal(answer.text(), '')
    })

    it('defaults to 4 MiB', () => {
      const answer = new AnswerBytes()
      assert.equal(answer.add(Buffer.alloc(MAX_ANSWER_BYTES)), true)
      assert.equal(answer.add(Buffer.alloc(1)), false)
      assert.equal(MAX_ANSWER_BYTES, 4 * MiB)
    })
  })

  describe("the control server's answer", () => {
    it('a 100 MiB answer: exit 3 with one line, once a little more than 4 MiB has been read', async () => {
      const {control, sent} = await controlServer((socket, counted) => {
        socket.write('HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n')
        pour(socket, 100 * MiB, counted)
      })
      const error = await rejection(controlRequest(control, 'stats'))
      assert.equal(error.exitCode, EXIT.noMaster)
      assert.equal(
        error.message,
        `Puma's control server at ${control.url} sent more than 4 MiB for /stats: not Puma, or broken`,
      )
      assert.deepEqual(error.data, {command: '/stats', maxBytes: MAX_ANSWER_BYTES})
      // The socket was destroyed: the server saw the reader go, far short of 100 MiB (kernel buffers aside).
      await sent.closed
      assert.ok(sent.bytes < 32 * MiB, `${sent.bytes} bytes taken`)
    })

    it('an answer of exactly 4 MiB is read whole', async () => {
      const head = 'HTTP/1.0 200 OK\r\n\r\n'
      const {control} = await controlServer((socket) => {
        socket.end(Buffer.concat([Buffer.from(head), Buffer.alloc(MAX_ANSWER_BYTES - head.length, 'y')]))
      })
      const answer = await controlRequest(control, 'stats')
      assert.equal(answer.status, 200)
      assert.equal(answer.body.length, MAX_ANSWER_BYTES - head.length)
    })

    it('a 200 that then trickles a byte at a time ends at the deadline, which covers the body', async () => {
      const {control, sent} = await controlServer((socket) => {
        socket.write('HTTP/1.0 200 OK\r\n\r\n')
        trickle(socket, 20)
      })
      const started = Date.now()
      const error = await rejection(controlRequest(control, 'stats', {timeoutMs: 400}))
      const took = Date.now() - started
      assert.equal(error.exitCode, EXIT.timedOut)
      assert.match(error.message, /did not answer within 0\.4 s/)
      assert.ok(took >= 390 && took < 2000, `took ${took} ms`)
      await sent.closed
    })
  })

  describe('the health probe', () => {
    it('a 200 whose body trickles a byte at a time fails at --health-timeout, not when the body ends (never)', async () => {
      const {url, sent} = await healthServer((response) => {
        response.writeHead(200, {'Content-Type': 'text/plain'})
        trickle(response, 20)
      })
      const started = Date.now()
      const error = await rejection(probeHealth(url, {timeoutMs: 600}))
      const took = Date.now() - started
      assert.equal(error.exitCode, EXIT.checkFailed)
      assert.match(
        error.message,
        new RegExp(
          `^health check ${url} failed after the restart: HTTP 200, but the body did not end within 0\\.6 s \\(1 attempts in 0\\.6 s\\)$`,
        ),
      )
      assert.ok(took >= 590 && took < 2000, `took ${took} ms`)
      await sent.closed
    })

    it('headers that never come: "no answer", at the deadline', async () => {
      const {url} = await healthServer(() => {}) // never answers
      const error = await rejection(probeHealth(url, {timeoutMs: 300}))
      assert.equal(error.exitCode, EXIT.checkFailed)
      assert.match(error.message, /: no answer within 0\.3 s \(1 attempts in 0\.3 s\)$/)
    })

    it('an answer larger than 4 MiB fails at once, without retrying, and the connection is dropped', async () => {
      const {url, sent, requests} = await healthServer((response, counted) => {
        response.writeHead(200, {'Content-Type': 'text/plain'})
        pour(response, 100 * MiB, counted)
      })
      const started = Date.now()
      const error = await rejection(probeHealth(url, {timeoutMs: 30_000}))
      assert.equal(error.exitCode, EXIT.checkFailed)
      assert.equal(
        error.message,
        `health check ${url} failed after the restart: it sent more than 4 MiB: not a health check, or broken`,
      )
      assert.ok(Date.now() - started < 10_000, 'long before the deadline')
      assert.equal(requests(), 1, 'not retried')
      await sent.closed
      assert.ok(sent.bytes < 32 * MiB, `${sent.bytes} bytes taken`)
    })

    it('a 2xx that ends in time passes, as before', async () => {
      const {url} = await healthServer((response) => response.end('ok'))
      const result = await probeHealth(url, {timeoutMs: 2000})
      assert.equal(result.status, 200)
      assert.equal(result.attempts, 1)
    })
  })
})
