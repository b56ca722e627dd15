import {strict as assert} from 'node:assert'
import {constants} from 'node:os'

import {CtlError, EXIT} from '../../src/errors.js'
import {assertMaySignal, COMMAND_SIGNALS, sendSignal} from '../../src/signals.js'

/** A kill that records instead of signalling, and can fail like the real one. */
function recordingKill(failWith?: string) {
  const calls: Array<[number, 0 | NodeJS.Signals]> = []
  const kill = (pid: number, signal: 0 | NodeJS.Signals) => {
    calls.push([pid, signal])
    if (failWith && signal !== 0) throw Object.assign(new Error(failWith), {code: failWith})
  }

  return {calls, kill}
}

const isCtlError = (exit: number, message?: RegExp) => (error: unknown) =>
  error instanceof CtlError && error.exitCode === exit && (!message || message.test(error.message))

/** A kill whose null signal fails with `code`. */
const failing = (code: string) => (_pid: number, signal: 0 | NodeJS.Signals) => {
  assert.equal(signal, 0, 'only the null signal is sent')
  throw Object.assign(new Error(code), {code})
}

describe('signals', () => {
  const expected: Record<string, string> = {
    'phased-restart': 'SIGUSR1',
    restart: 'SIGUSR2',
    stop: 'SIGTERM',
    halt: 'SIGQUIT',
    'reopen-logs': 'SIGHUP',
    'worker-count-up': 'SIGTTIN',
    'worker-count-down': 'SIGTTOU',
    refork: 'SIGURG',
    info: process.platform === 'linux' ? 'SIGPWR' : 'SIGINFO',
  }
  for (const [command, signal] of Object.entries(expected)) {
    it(`${command} sends ${signal}`, () => {
      assert.equal(COMMAND_SIGNALS[command as keyof typeof COMMAND_SIGNALS], signal)
      assert.ok(signal in constants.signals, 'a signal Node knows on this platform')
      const {calls, kill} = recordingKill()
      sendSignal({pid: 4321}, command as keyof typeof COMMAND_SIGNALS, kill)
      assert.deepEqual(calls, [[4321, signal]])
    })
  }

  it('the table has exactly these commands', () =>
    assert.deepEqual(Object.keys(COMMAND_SIGNALS).sort(), Object.keys(expected).sort()))

  for (const pid of [0, 1, -1, -4321, Number.NaN, 1.5]) {
    it(`never calls kill for pid ${pid}`, () => {
      const {calls, kill} = recordingKill()
      assert.throws(() => sendSignal({pid}, 'stop', kill), isCtlError(EXIT.noMaster))
      assert.deepEqual(calls, [])
    })
  }

  it('EPERM becomes exit 4 with a hint', () => {
    const {kill} = recordingKill('EPERM')
    assert.throws(
      () => sendSignal({pid: 4321}, 'stop', kill),
      (error: unknown) =>
        isCtlError(EXIT.notPermitted, /not permitted to send SIGTERM to pid 4321/)(error) &&
        /user that runs Puma/.test((error as CtlError).suggestion!),
    )
  })

  it('a verified master that has exited since (or whose PID was reused) is not signalled', () => {
    const {calls, kill} = recordingKill()
    assert.throws(
      () => sendSignal({pid: process.pid, startTicks: -1}, 'stop', kill),
      isCtlError(EXIT.noMaster, /has exited since ctl verified it/),
    )
    assert.deepEqual(calls, [])
  })

  it('ESRCH (exited in between) becomes exit 3', () => {
    const {kill} = recordingKill('ESRCH')
    assert.throws(
      () => sendSignal({pid: 4321}, 'phased-restart', kill),
      isCtlError(EXIT.noMaster, /exited before SIGUSR1/),
    )
  })

  describe('assertMaySignal: asked before anything else about a command that signals', () => {
    it("another user's master (EPERM on kill(pid, 0)) is exit 4, with the way out", () => {
      assert.throws(
        () => assertMaySignal({pid: 4321}, failing('EPERM')),
        (error: unknown) =>
          isCtlError(EXIT.notPermitted, /^not permitted to signal pid 4321: it runs as another user$/)(error) &&
          (error as CtlError).suggestion === 'run ctl as the user that runs Puma (or with sudo -u)',
      )
    })

    it('a permitted or gone process passes: the checks after it say what is wrong', () => {
      const {calls, kill} = recordingKill()
      assertMaySignal({pid: 4321}, kill)
      assert.deepEqual(calls, [[4321, 0]])
      assertMaySignal({pid: 4321}, failing('ESRCH'))
    })
  })
})
