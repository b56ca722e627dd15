import {strict as assert} from 'node:assert'
import {writeFileSync} from 'node:fs'
import {type AddressInfo, createServer} from 'node:net'
import {join} from 'node:path'

import {type ControlEndpoint, controlRequest} from '../../src/control/client.js'
import {type PumaStats} from '../../src/control/stats.js'
import {type CtlError, EXIT, noMasterError, notPermittedError} from '../../src/errors.js'
import {rereadControl} from '../../src/target/endpoint.js'
import {fromMaster, MASTER, NEW_PID, OLD_PID, RestartWorld} from '../helpers/restart-world.js'

const OLD_TOKEN = 'old-tok-5f0c2a'
const NEW_TOKEN = 'new-tok-9d4e7b'
const TCP = 'tcp://127.0.0.1:9293'

/** A cluster's /stats after a boot at `startedAt`: `pids` booted in phase 0. */
function booted(startedAt: string, pids: number[]): PumaStats {
  return {
    mode: 'cluster',
    startedAt,
    phase: 0,
    workers: pids.length,
    bootedWorkers: pids.length,
    oldWorkers: 0,
    workerStatus: pids.map((pid, index) => ({index, pid, phase: 0, booted: true})),
  }
}

const BEFORE = booted('2026-11-29T10:00:00Z', [OLD_PID, OLD_PID + 1])
const AFTER = booted('2026-11-29T10:05:00Z', [NEW_PID, NEW_PID + 1])

/** Puma's state file (5.6+ format), as it writes it at each boot. */
function stateText(pid: number, url: string, token: string): string {
  return `---\npid: ${pid}\ncontrol_url: ${url}\ncontrol_auth_token: ${token}\nrunning_from: /srv/app\n`
}

/** A hot restart of two workers, as Puma 5.6 logs it. */
const HOT_RESTART = [
  ...fromMaster(
    '- Gracefully shutting down workers...',
    '* Restarting...',
    'Puma starting in cluster mode...',
    '*      Workers: 2',
    '* Inherited tcp://127.0.0.1:9292',
    'Use Ctrl-C to stop',
  ),
  '=== puma startup: 2026-11-29 10:05:00 +0000 ===',
  ...fromMaster(
    `- Worker 0 (PID: ${NEW_PID}) booted in 0.01s, phase: 0`,
    `- Worker 1 (PID: ${NEW_PID + 1}) booted in 0.01s, phase: 0`,
  ),
]

/** What ctl shows of an error: its message, hint, details and --json data. No token may be in it. */
function assertNoToken(error: CtlError): void {
  const shown = JSON.stringify([error.message, error.suggestion, error.details, error.data])
  for (const token of [OLD_TOKEN, NEW_TOKEN]) assert.ok(!shown.includes(token), `a token in: ${shown}`)
}

/**
 * A control server that moves at Puma's next boot: before it, `before` answers (with BEFORE);
 * from `boot()` on, only `after` does (with AFTER). Elsewhere: refused (403) at the same URL with
 * another token, nothing listening (ENOENT) at another URL, as Puma's control server answers.
 */
function movingControl(before: {token: string; url: string}, after: {token: string; url: string}) {
  let booted = false
  const asked: Array<{token?: string; url: string}> = []
  const stats = (control: ControlEndpoint): PumaStats => {
    asked.push({url: control.url, token: control.token})
    const now = booted ? after : before
    if (control.url !== now.url) throw noMasterError(`nothing listens on Puma's control URL ${control.url}`)
    if (control.token !== now.token)
      throw notPermittedError(`Puma's control server at ${control.url} refused the token`)
    return booted ? AFTER : BEFORE
  }

  return {
    asked,
    boot() {
      booted = true
    },
    stats,
  }
}

/** A control server that refuses every token, echoing the request line as a proxy might. */
async function refusing(): Promise<{close(): void; url: string}> {
  const server = createServer((socket) => {
    socket.once('data', (request) => {
      socket.end(`HTTP/1.0 403 Forbidden\r\n\r\nInvalid auth token for ${String(request).split('\r\n')[0]}`)
    })
  })
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve)
  })
  return {url: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close()}
}

/** The error a 403 for /stats at `endpoint` rejects with. */
async function refusal(endpoint: ControlEndpoint): Promise<CtlError> {
  return controlRequest(endpoint, 'stats').then(
    () => assert.fail('a 403 must reject'),
    (error: CtlError) => error,
  )
}

describe("a control endpoint that moves at Puma's next boot", () => {
  describe('a whole hot restart', () => {
    let world: RestartWorld

    afterEach(() => world.cleanUp())

    /** A world whose control server is the one its state file records: `statePath` set, as findControl sets it. */
    function fromStateFile(
      control: ReturnType<typeof movingControl>,
      url: string,
      options: {withLog?: boolean} = {},
    ): {endpoint: ControlEndpoint; statePath: string} {
      world = new RestartWorld({workers: 2, stats: control.stats, ...options})
      const statePath = join(world.dir, 'puma.state')
      writeFileSync(statePath, stateText(MASTER, url, OLD_TOKEN))
      return {statePath, endpoint: {url, token: OLD_TOKEN, origin: 'state file tmp/puma.state', statePath}}
    }

    it('the log says done: /stats confirms with the token Puma wrote into the state file at its new boot (exit 0)', async () => {
      const control = movingControl({url: TCP, token: OLD_TOKEN}, {url: TCP, token: NEW_TOKEN})
      const {endpoint, statePath} = fromStateFile(control, TCP)
      const run = world.run({kind: 'hot', control: endpoint})
      await world.sent
      control.boot()
      writeFileSync(statePath, stateText(MASTER, TCP, NEW_TOKEN))
      await world.write(...HOT_RESTART)
      await run.finished()
      const report = run.report()
      assert.equal(report.restart, 'hot')
      assert.equal(report.outcome, 'done')
      assert.deepEqual(control.asked, [
        {url: TCP, token: OLD_TOKEN}, // before the signal
        {url: TCP, token: NEW_TOKEN}, // the confirmation: read again at once, since a hot restart is a new boot
      ])
      assert.ok(!JSON.stringify(report).includes(OLD_TOKEN) && !JSON.stringify(report).includes(NEW_TOKEN))
    })

    it('no log: /stats at the new socket of a bare activate_control_app, once the state file names it (exit 0)', async () => {
      const oldSocket = 'unix:///tmp/puma-status-1764410400-1234'
      const newSocket = 'unix:///tmp/puma-status-1764410700-1234'
      const control = movingControl({url: oldSocket, token: OLD_TOKEN}, {url: newSocket, token: NEW_TOKEN})
      const {endpoint, statePath} = fromStateFile(control, oldSocket, {withLog: false})
      const run = world.run({kind: 'hot', control: endpoint})
      const start = await world.sent
      assert.equal(start.stats, true)
      control.boot()
      writeFileSync(statePath, '') // Puma's File.write has truncated the file, not yet written it
      await world.advance(100)
      await world.rereadsDone()
      assert.equal(run.settled.status, 'pending', 'nothing listens at the old socket, and the file says nothing yet')
      writeFileSync(statePath, stateText(MASTER, newSocket, NEW_TOKEN))
      await world.advance(150) // nothing changed at the first look: the next one comes a little later
      await world.rereadsDone()
      const report = run.report()
      assert.equal(report.restart, 'hot')
      assert.deepEqual(
        report.workers.map((worker) => worker.newPid),
        [NEW_PID, NEW_PID + 1],
      )
      assert.deepEqual(control.asked.slice(-2), [
        {url: oldSocket, token: OLD_TOKEN},
        {url: newSocket, token: NEW_TOKEN},
      ])
      assert.equal(world.clock.now() - (world.states[0]?.plan.startedAt ?? 0), 250, 'two polls, not the timeout')
      assert.equal(world.clock.pending, 0, 'no poll left behind')
    })

    it('a state file that names another master now is not used: the refused token stands (exit 4), unprinted', async () => {
      const control = movingControl({url: TCP, token: OLD_TOKEN}, {url: TCP, token: NEW_TOKEN})
      const {endpoint, statePath} = fromStateFile(control, TCP)
      const run = world.run({kind: 'hot', control: endpoint})
      await world.sent
      control.boot()
      writeFileSync(statePath, stateText(MASTER + 1, TCP, NEW_TOKEN))
      await world.write(...HOT_RESTART)
      await run.finished()
      const error = run.error(EXIT.notPermitted)
      assert.match(error.message, /refused the token/)
      assert.ok(
        control.asked.every((asked) => asked.token === OLD_TOKEN),
        "the other master's token was never sent",
      )
      assertNoToken(error)
    })

    it('a --control-url is never read again, even beside a state file: exit 4', async () => {
      const control = movingControl({url: TCP, token: OLD_TOKEN}, {url: TCP, token: NEW_TOKEN})
      fromStateFile(control, TCP)
      const run = world.run({kind: 'hot', control: {url: TCP, token: OLD_TOKEN, origin: '--control-url'}})
      await world.sent
      control.boot()
      await world.write(...HOT_RESTART)
      await run.finished()
      const error = run.error(EXIT.notPermitted)
      const reread = await Promise.all(world.rereads)
      assert.ok(reread.length > 0, 'asked')
      assert.ok(
        reread.every((endpoint) => endpoint === undefined),
        'the state file was not read',
      )
      assertNoToken(error)
    })
  })

  describe("Puma's 403, as ctl words it", () => {
    it('a --control-url: Puma writes a new token at each boot, and ctl never reads a --control-url again', async () => {
      const server = await refusing()
      try {
        const error = await refusal({url: server.url, token: OLD_TOKEN, origin: '--control-url'})
        assert.equal(error.exitCode, EXIT.notPermitted)
        assert.match(error.message, /refused the token \(403 Invalid auth token for GET \/stats\?token=\*\*\* HTTP/)
        assert.match(error.suggestion!, /Puma writes a new one at each boot unless the config pins it/)
        assert.match(error.suggestion!, /ctl never reads a --control-url again: pass --state/)
        assertNoToken(error)
        const fromState = await refusal({
          url: server.url,
          token: OLD_TOKEN,
          origin: 'state file tmp/puma.state',
          statePath: '/srv/app/tmp/puma.state',
        })
        assert.match(
          fromState.suggestion!,
          /unless the config pins it, into its state_path: check that state file tmp\/puma.state is that file/,
        )
        assertNoToken(fromState)
      } finally {
        server.close()
      }
    })
  })

  describe('rereadControl: the state file as Puma rewrote it', () => {
    let world: RestartWorld

    afterEach(() => world.cleanUp())

    it('reads the new URL and token of the same master; nothing for another master, an unreadable file or a --control-url', async () => {
      world = new RestartWorld()
      const statePath = join(world.dir, 'puma.state')
      const stale: ControlEndpoint = {url: TCP, token: OLD_TOKEN, origin: 'state file puma.state', statePath}
      writeFileSync(statePath, stateText(MASTER, 'unix:///tmp/new.sock', NEW_TOKEN))
      assert.deepEqual(await rereadControl(stale, MASTER), {...stale, url: 'unix:///tmp/new.sock', token: NEW_TOKEN})
      assert.equal(await rereadControl(stale, MASTER + 1), undefined, 'another master')
      assert.equal(await rereadControl({url: TCP, token: OLD_TOKEN, origin: '--control-url'}, MASTER), undefined)
      writeFileSync(statePath, `---\npid: ${MASTER}\n`)
      assert.equal(await rereadControl(stale, MASTER), undefined, 'no control_url')
      writeFileSync(statePath, '')
      assert.equal(await rereadControl(stale, MASTER), undefined, 'mid-write')
      assert.equal(await rereadControl({...stale, statePath: join(world.dir, 'gone.state')}, MASTER), undefined)
    })
  })
})
