import {strict as assert} from 'node:assert'

import {restartView, type RestartView, viewMode} from '../../src/render/restart.js'
import {FakeTerminal, hasColour} from '../helpers/fake-terminal.js'

type Start = Parameters<RestartView['started']>[0]
type Update = Parameters<RestartView['update']>[0]
type Notice = Update['notices'][number]

const start = (overrides: Partial<Start> = {}): Start => ({
  sent: 'SIGUSR1',
  via: 'signal',
  warnings: [],
  pid: 4242,
  logs: [{path: '/srv/app/log/puma.log'}],
  stats: false,
  preflight: {mode: 'cluster', warnings: [], workers: [{index: 0, pid: 4243}], logAttributable: true},
  ...overrides,
})

/** Only the label reaches the view. */
const update = (label: string, notices: Notice[] = []): Update => ({
  type: 'update',
  stopping: [],
  notices,
  progress: {label} as Update['progress'],
})

const noColour = {NO_COLOR: '1'}
const colour = {NO_COLOR: undefined, TERM: 'xterm'}

/** The timers the views start (ora's frame interval, the elapsed-time clock), to check that stop() ends them. */
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- in Node 20, only marked experimental
const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length

describe('render/restart', () => {
  describe('viewMode', () => {
    const cases: Array<[string, {json: boolean; quiet: boolean}, FakeTerminal, string]> = [
      ['--json', {json: true, quiet: false}, new FakeTerminal(), 'silent'],
      ['--quiet', {json: false, quiet: true}, new FakeTerminal(), 'silent'],
      ['a terminal', {json: false, quiet: false}, new FakeTerminal(), 'spinner'],
      ['a pipe', {json: false, quiet: false}, new FakeTerminal({isTTY: false}), 'plain'],
      [
        'a terminal of width 0 (script(1) without one)',
        {json: false, quiet: false},
        new FakeTerminal({columns: 0}),
        'plain',
      ],
    ]
    for (const [name, options, terminal, expected] of cases) {
      it(`${expected} for ${name}`, () => assert.equal(viewMode(options, terminal.stream), expected))
    }
  })

  describe('plain lines', () => {
    it('prints the pre-flight warnings, what was sent and what is followed, then one line a notice', async () => {
      const pipe = new FakeTerminal({isTTY: false})
      const view = await restartView('plain', pipe.stream, colour)
      view.started(
        start({
          preflight: {mode: 'cluster', warnings: ['preload_app! is on'], workers: [], logAttributable: true},
          stats: true,
        }),
      )
      view.update(update('phase 1: 0/2 workers booted', [{kind: 'restart-started', message: 'phase 1 started'}]))
      view.update(update('phase 1: 0/2 workers booted')) // progress alone: nothing to print
      view.update(
        update('phase 1: 1/2 workers booted', [
          {kind: 'worker-booted', message: 'worker 0 booted'},
          {kind: 'warning', message: 'worker 1 is slow'},
          {kind: 'error', message: 'worker 1 failed'},
        ]),
      )
      view.stop()
      view.stop()
      assert.equal(
        pipe.written,
        [
          '⚠ preload_app! is on',
          'Sent SIGUSR1 to Puma master 4242; following /srv/app/log/puma.log, confirming with /stats',
          '→ phase 1 started',
          '✔ worker 0 booted',
          '⚠ worker 1 is slow',
          '✖ worker 1 failed',
          '',
        ].join('\n'),
      )
      assert.ok(!hasColour(pipe.written), 'a pipe got colour')
    })

    it('names the control server and /stats alone as what it follows, and each log of several', async () => {
      const pipe = new FakeTerminal({isTTY: false})
      const view = await restartView('plain', pipe.stream, colour)
      view.started(start({sent: 'GET /phased-restart', via: 'control', pid: undefined, logs: [], stats: true}))
      view.started(start({logs: [{path: '/a/puma.log'}, {path: '/a/puma.err'}]}))
      assert.deepEqual(pipe.screen, [
        "Sent GET /phased-restart to Puma's control server; following Puma's /stats",
        'Sent SIGUSR1 to Puma master 4242; following /a/puma.log and /a/puma.err',
      ])
    })

    it(String.raw`prints the notices printable: an escape in a quoted log line reaches the pipe as \x1b`, async () => {
      const pipe = new FakeTerminal({isTTY: false})
      const view = await restartView('plain', pipe.stream, noColour)
      view.update(update('phase 1', [{kind: 'error', message: 'Worker 0 failed to boot: \u001B[2K\r✔ done'}]))
      view.stop()
      assert.equal(pipe.written, `✖ Worker 0 failed to boot: ${String.raw`\x1b[2K\x0d`}✔ done\n`)
    })

    it('prints nothing when silent (--json, --quiet)', async () => {
      const terminal = new FakeTerminal()
      const view = await restartView('silent', terminal.stream, colour)
      view.started(start())
      view.update(update('phase 1', [{kind: 'error', message: 'worker 1 failed'}]))
      view.stop()
      assert.equal(terminal.written, '')
    })
  })

  describe('the spinner on a terminal', () => {
    let view: RestartView | undefined

    afterEach(() => view?.stop())

    it('spins below the sent line, shows the progress label, puts notices above it, and leaves no spinner behind', async () => {
      const terminal = new FakeTerminal()
      view = await restartView('spinner', terminal.stream, noColour)
      const timersBefore = timers() // after an await: mocha starts its own timeout timer then
      view.started(start())
      assert.equal(terminal.screen[0], 'Sent SIGUSR1 to Puma master 4242; following /srv/app/log/puma.log')
      assert.match(terminal.screen[1], /^\S waiting for Puma \(\d+\.\d s\)$/)
      assert.equal(terminal.screen.length, 2)

      view.update(update('phase 1: 1/2 workers booted', [{kind: 'worker-booted', message: 'worker 0 booted'}]))
      assert.deepEqual(terminal.screen.slice(0, 2), [
        'Sent SIGUSR1 to Puma master 4242; following /srv/app/log/puma.log',
        '✔ worker 0 booted',
      ])
      assert.match(terminal.screen[2], /^\S phase 1: 1\/2 workers booted \(\d+\.\d s\)$/)
      assert.equal(terminal.screen.length, 3)
      assert.ok(timers() > timersBefore, 'nothing ticks while spinning')

      view.stop()
      view.stop() // safe twice: the error path stops it again
      assert.deepEqual(terminal.screen, [
        'Sent SIGUSR1 to Puma master 4242; following /srv/app/log/puma.log',
        '✔ worker 0 booted',
      ])
      assert.ok(terminal.written.endsWith('\u001B[?25h'), 'the cursor was not shown again')
      assert.equal(timers(), timersBefore, 'a timer outlived stop()')
    })

    it('honours NO_COLOR: cursor moves, but no colour codes', async () => {
      const terminal = new FakeTerminal()
      view = await restartView('spinner', terminal.stream, noColour)
      view.started(start({preflight: {mode: 'cluster', warnings: ['old code'], workers: [], logAttributable: true}}))
      view.update(update('phase 1', [{kind: 'error', message: 'worker 1 failed'}]))
      view.stop()
      assert.ok(!hasColour(terminal.written), `colour despite NO_COLOR: ${JSON.stringify(terminal.written)}`)
      assert.deepEqual(terminal.screen, [
        '⚠ old code',
        'Sent SIGUSR1 to Puma master 4242; following /srv/app/log/puma.log',
        '✖ worker 1 failed',
      ])
    })

    it('colours the symbols on a terminal without NO_COLOR', async () => {
      const terminal = new FakeTerminal()
      view = await restartView('spinner', terminal.stream, colour)
      view.started(start())
      view.update(update('phase 1', [{kind: 'error', message: 'worker 1 failed'}]))
      view.stop()
      assert.ok(terminal.written.includes('\u001B[31m✖\u001B[39m worker 1 failed'), 'the error symbol is not red')
      assert.deepEqual(terminal.screen.at(-1), '✖ worker 1 failed')
    })
  })
})
