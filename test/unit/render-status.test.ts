import {strict as assert} from 'node:assert'

import {paintFor} from '../../src/render/colour.js'
import {renderStats} from '../../src/render/stats.js'
import {renderStatus} from '../../src/render/status.js'
import {FakeTerminal, hasColour} from '../helpers/fake-terminal.js'

type ServerStatus = Parameters<typeof renderStatus>[0]
type PumaStats = Parameters<typeof renderStats>[0]

const status = (overrides: Partial<ServerStatus> = {}): ServerStatus => ({
  pid: 4242,
  version: '5.6.5',
  mode: 'cluster',
  binds: ['tcp://127.0.0.1:9292', 'unix:///srv/app/tmp/puma.sock'],
  tag: 'app',
  folder: '/srv/app/current',
  startedAt: '2026-11-29T10:00:00.000Z',
  uptimeSeconds: 3725,
  rssBytes: 80 * 1024 * 1024,
  foundBy: 'pidfile tmp/pids/puma.pid',
  workers: [
    {index: 0, pid: 4243, uptimeSeconds: 3700, rssBytes: 120 * 1024 * 1024, cpuSeconds: 12.5},
    {index: 1, pid: 4250, uptimeSeconds: 5, rssBytes: 2048, cpuSeconds: 0.25},
  ],
  ...overrides,
})

const stats = (overrides: Partial<PumaStats> = {}): PumaStats => ({
  mode: 'cluster',
  startedAt: '2026-11-29T10:00:00Z',
  phase: 3,
  workers: 2,
  bootedWorkers: 1,
  oldWorkers: 0,
  workerStatus: [
    {
      index: 0,
      pid: 4243,
      phase: 3,
      booted: true,
      checkinAgeSeconds: 2,
      running: 5,
      maxThreads: 5,
      backlog: 0,
      requests: 1200,
    },
    {index: 1, pid: 4250, phase: 3, booted: false, checkinAgeSeconds: 75},
  ],
  ...overrides,
})

/** No C0 but tab, no DEL, no C1: what must never reach the terminal from a title, a folder or /stats. */
const isPrintable = (line: string) =>
  [...line].every((char) => {
    const code = char.codePointAt(0)!
    return (code >= 32 || code === 9) && (code < 127 || code > 159)
  })

describe('render/status and render/stats', () => {
  let plain: Awaited<ReturnType<typeof paintFor>>

  before(async () => {
    plain = await paintFor(new FakeTerminal({isTTY: false}))
  })

  describe('renderStatus', () => {
    it('shows a title, folder or /stats error printable: a tag cannot drive the terminal', () => {
      const lines = renderStatus(
        status({tag: 'app\u001B]0;pwned\u0007', folder: '/srv/\u001B[2Kx', statsError: 'bad\u009B'}),
        plain,
      )
      assert.ok(
        lines.every((line) => isPrintable(line)),
        lines.join('\n'),
      )
      assert.equal(lines[1], String.raw`  tag       app\x1b]0;pwned\x07`)
      assert.equal(lines[3], String.raw`  folder    /srv/\x1b[2Kx`)
    })

    it('shows the master, then the workers from the process table in a table', () => {
      assert.deepEqual(renderStatus(status(), plain), [
        '● Puma 5.6.5 cluster mode, pid 4242, up 1h 2m',
        '  tag       app',
        '  binds     tcp://127.0.0.1:9292, unix:///srv/app/tmp/puma.sock',
        '  folder    /srv/app/current',
        '  memory    80.0 MiB (master)',
        '  found by  pidfile tmp/pids/puma.pid',
        '  workers   2',
        '',
        '  INDEX  PID   UPTIME  RSS        CPU',
        '  0      4243  1h 1m   120.0 MiB  13 s',
        '  1      4250  5.0 s   2 KiB      0.3 s',
      ])
    })

    it("adds /stats's phase, boot state and check-in, flagging a stale worker", () => {
      const lines = renderStatus(
        status({
          phase: 3,
          workers: [
            {index: 0, pid: 4243, phase: 3, booted: true, checkinAgeSeconds: 2},
            {pid: 4250, phase: 2, booted: false, checkinAgeSeconds: 75},
          ],
        }),
        plain,
      )
      assert.equal(lines[6], '  phase     3')
      assert.deepEqual(lines.slice(-3), [
        '  INDEX  PID   UPTIME  RSS  CPU  PHASE  BOOTED  CHECK-IN',
        '  0      4243  ?       ?    ?    3      yes     2 s ago',
        '  ?      4250  ?       ?    ?    2      no      75 s ago (STALE: past worker_timeout)',
      ])
    })

    it('says what it cannot know: no version before 2.8, a missing tag, folder or bind, and why /stats is missing', () => {
      const lines = renderStatus(
        status({
          version: undefined,
          mode: 'single',
          tag: undefined,
          binds: [],
          folder: undefined,
          uptimeSeconds: undefined,
          rssBytes: undefined,
          statsError: 'connection refused',
          workers: [],
        }),
        plain,
      )
      assert.deepEqual(lines, [
        '● Puma (before 2.8) single mode, pid 4242, up ?',
        '  tag       -',
        '  binds     -',
        '  folder    ?',
        '  memory    ? (master)',
        '  found by  pidfile tmp/pids/puma.pid',
        '  /stats    unavailable: connection refused',
      ])
    })

    it('colours only when given a painter for a terminal without NO_COLOR', async () => {
      const terminal = new FakeTerminal()
      const coloured = renderStatus(status({statsError: 'refused'}), await paintFor(terminal, {TERM: 'xterm'}))
      assert.ok(hasColour(coloured.join('\n')))
      const noColour = renderStatus(status({statsError: 'refused'}), await paintFor(terminal, {NO_COLOR: '1'}))
      assert.ok(!hasColour(noColour.join('\n')))
      assert.deepEqual(noColour, renderStatus(status({statsError: 'refused'}), plain))
    })
  })

  describe('renderStats', () => {
    it("shows a cluster's header and one row a worker, flagging one not booted or stale", () => {
      assert.deepEqual(renderStats(stats(), plain), [
        'cluster: phase 3, 1/2 workers booted, 0 old, started 2026-11-29T10:00:00Z',
        '',
        'INDEX  PID   PHASE  BOOTED  CHECK-IN                               THREADS  BACKLOG  REQUESTS',
        '0      4243  3      yes     2 s ago                                5/5      0        1200',
        '1      4250  3      no      75 s ago (STALE: past worker_timeout)  -/-      -        -',
      ])
    })

    it("shows single mode's own thread pool", () => {
      assert.deepEqual(
        renderStats(
          {mode: 'single', startedAt: undefined, running: 2, maxThreads: 5, backlog: 0, workerStatus: []},
          plain,
        ),
        ['single mode, started ?', 'threads 2/5, backlog 0, requests -'],
      )
    })

    it('paints a worker not booted red on a terminal', async () => {
      const lines = renderStats(stats(), await paintFor(new FakeTerminal(), {TERM: 'xterm'}))
      assert.ok(lines[4].includes('\u001B[31mno\u001B[39m'), 'not booted is not red')
      assert.ok(!hasColour(lines[3]))
    })
  })
})
