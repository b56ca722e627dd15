import {strict as assert} from 'node:assert'
import {EventEmitter} from 'node:events'

import {listenForInterrupts, type SignalSource, stoppedBy} from '../../src/cli/interrupts.js'
import {CtlError, EXIT, STOPPING_SIGNALS, type StoppingSignal} from '../../src/errors.js'

/** An emitter in place of `process`: signals are emitted by hand, and what listens can be counted. */
// eslint-disable-next-line unicorn/prefer-event-target -- it stands in for process, an EventEmitter
const fakeProcess = () => new EventEmitter() as EventEmitter & SignalSource

/** An interruption as the restart's wait throws it. */
const waiting = () =>
  new CtlError('interrupted', 'interrupted while waiting: phase 1: 0/2 workers booted; nothing more was sent to Puma', {
    data: {phase: 1},
    details: ['a detail'],
    suggestion: 'check ctl status',
  })

describe('cli/interrupts', () => {
  describe('listenForInterrupts', () => {
    for (const name of Object.keys(STOPPING_SIGNALS) as StoppingSignal[]) {
      it(`${name} aborts the signal and is remembered`, () => {
        const source = fakeProcess()
        const interrupts = listenForInterrupts(source)
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
      const interrupts = listenForInterrupts(source)
      source.emit('SIGTERM')
      assert.equal(source.listenerCount('SIGTERM'), 1, 'still listening')
      source.emit('SIGINT')
      source.emit('SIGTERM')
      assert.equal(interrupts.received(), 'SIGTERM')
      interrupts.dispose()
    })

    it('dispose() removes every listener it added', () => {
      const source = fakeProcess()
      const interrupts = listenForInterrupts(source)
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

    it('leaves alone an interruption without a signal (the API caller aborted), and every other error', () => {
      const interrupted = waiting()
      assert.equal(stoppedBy(interrupted, undefined), interrupted)
      const timedOut = new CtlError('timedOut', 'Timed out after 3 s')
      assert.equal(stoppedBy(timedOut, 'SIGTERM'), timedOut)
      const bug = new Error('bug')
      assert.equal(stoppedBy(bug, 'SIGINT'), bug)
    })

    it('the exit codes are 128 + the signal number, as a shell reports them', () => {
      assert.equal(EXIT.hangup, 128 + 1)
      assert.equal(EXIT.interrupted, 128 + 2)
      assert.equal(EXIT.terminated, 128 + 15)
    })
  })
})
