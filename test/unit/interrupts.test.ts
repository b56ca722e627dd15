import {strict as assert} from 'node:assert'
import {type ChildProcess, spawn} from 'node:child_process'
import {EventEmitter} from 'node:events'

import {deliver} from '../../src/actions/deliver.js'
import {reopenLogs} from '../../src/actions/reopen-logs.js'
import {listenForInterrupts, type SignalSource, stoppedBy} from '../../src/cli/interrupts.js'
import {CtlError, EXIT, STOPPING_SIGNALS, type StoppingSignal} from '../../src/errors.js'
import {checkRedirect} from '../../src/log/redirect-evidence.js'
import {startTicks} from '../../src/target/liveness.js'
import {isAlive} from '../helpers/processes.js'

/** An emitter in place of `process`: signals are emitted by hand, what listens is counted, what it sends recorded. */
function fakeProcess() {
  // eslint-disable-next-line unicorn/prefer-event-target -- it stands in for process, an EventEmitter
  const emitter = new EventEmitter()
  const sent: Array<[number, number | string | undefined]> = []
  const source = Object.assign(emitter, {
    pid: 4321,
    kill(pid: number, signal?: number | string) {
      sent.push([pid, signal])
      return true
    },
  }) as unknown as EventEmitter & SignalSource
  return Object.assign(source, {sent})
}

/** Which of stdin, stdout and stderr is a terminal; changed by a test (a terminal that hangs up). */
function fakeTerminals(...fds: number[]) {
  const terminals = new Set(fds)
  return {isTerminal: (fd: number) => terminals.has(fd), hangUp: () => terminals.clear()}
}

/** An interruption as the restart's wait throws it. */
const waiting = () =>
  new CtlError('interrupted', 'interrupted while waiting: phase 1: 0/2 workers booted; nothing more was sent to Puma', {
    data: {phase: 1},
    details: ['a detail'],
    suggestion: 'check ctl status',
  })

/** A signal already aborted, as ctl's is once SIGTERM came. */
const interrupted = () => {
  const controller = new AbortController()
  controller.abort('SIGTERM')
  return controller.signal
}

/** The refusal to send anything. */
const isInterruption = (error: unknown) =>
  error instanceof CtlError &&
  error.exitCode === EXIT.interrupted &&
  error.message === 'interrupted before anything was sent to Puma'

describe('cli/interrupts', () => {
  describe('listenForInterrupts', () => {
    for (const name of Object.keys(STOPPING_SIGNALS) as StoppingSignal[]) {
      it(`${name} aborts the signal and is remembered`, () => {
        const source = fakeProcess()
        const interrupts = listenForInterrupts({process: source, isTerminal: () => false, outputs: []})
        assert.equal(interrupts.signal.aborted, false)
        assert.equal(interrupts.received(), undefined)
        source.emit(name)
        assert.equal(interrupts.signal.aborted, true)
        assert.equal(interrupts.signal.reason, name)
        assert.equal(interrupts.received(), name)
        interrupts.dispose()
      })
    }

    it('keeps listening after the first signal (a `once` listener would leave signal-exit alone, and it would kill ctl); the first one counts', () => {
      const source = fakeProcess()
      const interrupts = listenForInterrupts({process: source, isTerminal: () => false, outputs: []})
      source.emit('SIGTERM')
      assert.equal(source.listenerCount('SIGTERM'), 1, 'still listening')
      source.emit('SIGINT')
      source.emit('SIGTERM')
      assert.equal(interrupts.received(), 'SIGTERM')
      interrupts.dispose()
    })

    it('dispose() with the terminal as it was: nothing sent', () => {
      const source = fakeProcess()
      const {isTerminal} = fakeTerminals(0, 1, 2)
      const interrupts = listenForInterrupts({process: source, isTerminal, outputs: []})
      source.emit('SIGINT')
      interrupts.dispose()
      assert.deepEqual(source.sent, [])
    })

    it("dispose() once the terminal hung up: ends ctl by SIGHUP's default action, every SIGHUP listener removed first", () => {
      const source = fakeProcess()
      const {isTerminal, hangUp} = fakeTerminals(0, 2)
      source.on('SIGHUP', () => {}) // signal-exit's, which would let ctl run on to Node's exit
      const interrupts = listenForInterrupts({process: source, isTerminal, outputs: []})
      source.emit('SIGHUP')
      hangUp()
      interrupts.dispose()
      assert.equal(source.listenerCount('SIGHUP'), 0)
      assert.deepEqual(source.sent, [[4321, 'SIGHUP']])
    })

    it('dispose() without a terminal at the start: nothing sent', () => {
      const source = fakeProcess()
      const interrupts = listenForInterrupts({process: source, isTerminal: fakeTerminals().isTerminal, outputs: []})
      interrupts.dispose()
      assert.deepEqual(source.sent, [])
    })

    it("a terminal that hung up under stdout or stderr (EIO) counts as SIGHUP; other errors are the stream's other listeners'", () => {
      const source = fakeProcess()
      // eslint-disable-next-line unicorn/prefer-event-target -- it stands in for process.stderr, an EventEmitter
      const [stdout, stderr] = [new EventEmitter(), new EventEmitter()]
      const epipe: unknown[] = []
      stdout.on('error', (error) => epipe.push(error)) // the fast path's: a reader that went away
      const interrupts = listenForInterrupts({process: source, isTerminal: () => false, outputs: [stdout, stderr]})
      stdout.emit('error', Object.assign(new Error('write EPIPE'), {code: 'EPIPE'}))
      assert.equal(epipe.length, 1)
      assert.equal(interrupts.signal.aborted, false)
      assert.throws(() => stderr.emit('error', Object.assign(new Error('write EBADF'), {code: 'EBADF'})), /EBADF/)
      stderr.emit('error', Object.assign(new Error('write EIO'), {code: 'EIO'}))
      assert.equal(interrupts.received(), 'SIGHUP')
      interrupts.dispose()
      assert.equal(stdout.listenerCount('error'), 1)
      assert.equal(stderr.listenerCount('error'), 0)
    })

    it('dispose() removes every listener it added', () => {
      const source = fakeProcess()
      const interrupts = listenForInterrupts({process: source, isTerminal: () => false, outputs: []})
      for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) assert.equal(source.listenerCount(name), 1, name)
      interrupts.dispose()
      for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) assert.equal(source.listenerCount(name), 0, name)
    })
  })

  describe('stoppedBy', () => {
    const cases: Array<[StoppingSignal, number, string]> = [
      ['SIGINT', 130, 'interrupted while waiting: phase 1: 0/2 workers booted; nothing more was sent to Puma'],
      [
        'SIGTERM',
        143,
        'SIGTERM received: interrupted while waiting: phase 1: 0/2 workers booted; nothing more was sent to Puma',
      ],
      [
        'SIGHUP',
        129,
        'SIGHUP received: interrupted while waiting: phase 1: 0/2 workers booted; nothing more was sent to Puma',
      ],
    ]
    for (const [signal, code, message] of cases) {
      it(`an interruption by ${signal}: exit ${code}, the signal in the message and in --json's data`, () => {
        const error = stoppedBy(waiting(), signal)
        assert.ok(error instanceof CtlError)
        assert.equal(error.exitCode, code)
        assert.equal(error.message, message)
        assert.deepEqual(error.data, {phase: 1, signal})
        assert.deepEqual(error.details, ['a detail'])
        assert.equal(error.suggestion, 'check ctl status')
      })
    }

    it('leaves alone an interruption without a signal (the API caller aborted), and an error of ctl itself', () => {
      const interrupted = waiting()
      assert.equal(stoppedBy(interrupted, undefined), interrupted)
      const bug = new Error('bug')
      assert.equal(stoppedBy(bug, 'SIGINT'), bug)
    })

    it("another error after the signal (a step that cannot be cut short, such as Puma's reading of a config): the signal's exit code", () => {
      const notFound = new CtlError('noMaster', 'no Puma master is running')
      const error = stoppedBy(notFound, 'SIGTERM')
      assert.ok(error instanceof CtlError)
      assert.equal(error.exitCode, 143)
      assert.equal(error.message, 'SIGTERM received, then no Puma master is running')
      assert.equal((stoppedBy(notFound, 'SIGINT') as CtlError).exitCode, 130)
    })

    it('the exit codes are 128 + the signal number, as a shell reports them', () => {
      assert.equal(EXIT.hangup, 128 + 1)
      assert.equal(EXIT.interrupted, 128 + 2)
      assert.equal(EXIT.terminated, 128 + 15)
    })
  })

  describe('nothing is sent to Puma once ctl was interrupted', () => {
    // A stand-in master: SIGUSR1 or SIGHUP, sent by mistake, would end it.
    let sleeper: ChildProcess
    let master: {binds: string[]; cmd: string; pid: number; startTicks?: number; workers: []}

    before(() => {
      sleeper = spawn('sleep', ['60'])
      master = {pid: sleeper.pid!, startTicks: startTicks(sleeper.pid!), binds: [], cmd: 'puma 6.4.2', workers: []}
    })

    after(() => {
      sleeper.kill('SIGKILL')
    })

    it('deliver(): neither a signal nor a control request', async () => {
      const to = {kind: 'master' as const, target: {master, origin: 'test'}}
      await assert.rejects(deliver('phased-restart', to, {via: 'signal', signal: interrupted()}), isInterruption)
      const control = {kind: 'control' as const, control: {url: 'tcp://127.0.0.1:1', origin: '--control-url'}}
      await assert.rejects(deliver('stop', control, {via: 'control', signal: interrupted()}), isInterruption)
      assert.ok(isAlive(master.pid))
    })

    it('reopenLogs(): interrupted while the redirect was checked, no SIGHUP', async () => {
      const log = '/srv/app/log/puma.log'
      const sources = {
        details: () => ({cwd: '/srv/app', startedAt: new Date('2026-11-24T12:19:44.730Z'), stdout: log}),
        environ: () => ({}),
        exists: (path: string) => path === log,
        isRegularFile: (path: string) => path === log,
        readHead: async () => Buffer.from('=== puma startup: 2026-11-24 12:19:45 +0000 ===\n'),
      }
      assert.equal((await checkRedirect(master.pid, {}, sources)).kind, 'redirected', 'the evidence suffices')
      await assert.rejects(
        reopenLogs({master, origin: 'test'}, {force: false, signal: interrupted()}, sources),
        isInterruption,
      )
      assert.ok(isAlive(master.pid))
    })
  })
})
