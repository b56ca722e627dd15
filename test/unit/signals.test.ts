import {strict as assert} from 'node:assert'
import {type ChildProcess, spawn} from 'node:child_process'
import {constants} from 'node:os'

import {CtlError, EXIT} from '../../src/errors.js'
import {COMMAND_SIGNALS, sendSignal} from '../../src/signals.js'
import {findTarget} from '../../src/target/find.js'
import {type ProcessEntry} from '../../src/target/process-table.js'

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
})

describe('findTarget with an injected process table and kill', () => {
  // Live processes whose PIDs the injected tables describe as Puma masters (liveness reads /proc).
  let sleepers: ChildProcess[] = []
  let livePid: number
  let otherLivePid: number

  before(() => {
    sleepers = [spawn('sleep', ['60']), spawn('sleep', ['60'])]
    ;[livePid, otherLivePid] = sleepers.map((child) => child.pid!)
  })

  after(() => {
    for (const child of sleepers) child.kill('SIGKILL')
  })

  const master = (pid: number, tag: string): ProcessEntry[] => [
    {
      pid,
      ppid: 1,
      cmd: `puma 5.6.5 (tcp://127.0.0.1:${pid}) [${tag}]`,
      argv: [`puma 5.6.5 (tcp://127.0.0.1:${pid}) [${tag}]`],
    },
    {
      pid: pid + 1,
      ppid: pid,
      cmd: `puma: cluster worker 0: ${pid} [${tag}]`,
      argv: [`puma: cluster worker 0: ${pid} [${tag}]`],
    },
  ]
  const deps = (processes: ProcessEntry[], folders: Record<number, string> = {}) => {
    const {calls, kill} = recordingKill()
    return {calls, deps: {kill, listProcesses: async () => processes, cwdOf: async (pid: number) => folders[pid]}}
  }

  for (const pid of ['1', '0', '-1', ' ', 'abc']) {
    it(`--pid ${JSON.stringify(pid)} is refused before anything is sent, even kill(0)`, async () => {
      const {calls, deps: injected} = deps(master(5000, 'a'))
      await assert.rejects(findTarget({pid}, injected), isCtlError(EXIT.noMaster, /invalid --pid/))
      assert.deepEqual(calls, [])
    })
  }

  it('--pid of a live Puma master is verified with kill(0) only', async () => {
    const {calls, deps: injected} = deps(master(livePid, 'a'))
    const target = await findTarget({pid: String(livePid)}, injected)
    assert.equal(target.master.pid, livePid)
    assert.deepEqual(target.master.workers, [{pid: livePid + 1, index: 0, tag: 'a'}])
    assert.ok(calls.every(([, signal]) => signal === 0))
  })

  it('--pid of a process that is not Puma: exit 3 naming it', async () => {
    const {deps: injected} = deps([{pid: process.pid, ppid: 1, cmd: 'sleep 100', argv: ['sleep', '100']}])
    await assert.rejects(
      findTarget({pid: String(process.pid)}, injected),
      isCtlError(EXIT.noMaster, /\(sleep 100\) is not a Puma master/),
    )
  })

  it('a scan finding two masters lists both; --tag and --dir narrow it', async () => {
    const processes = [...master(livePid, 'a'), ...master(otherLivePid, 'b')]
    const folders = {[livePid]: '/srv/a', [otherLivePid]: '/'}
    await assert.rejects(findTarget({cwd: '/tmp'}, deps(processes, folders).deps), (error: unknown) => {
      assert.ok(isCtlError(EXIT.noMaster, /2 Puma masters are running: choose one/)(error))
      const {details, data} = error as CtlError
      assert.match(details[0], /^PID\s+VERSION\s+TAG\s+FOLDER\s+BINDS$/)
      assert.deepEqual(
        (data!.candidates as Array<{pid: number}>).map((c) => c.pid),
        [livePid, otherLivePid],
      )
      return true
    })
    assert.equal((await findTarget({tag: 'b'}, deps(processes, folders).deps)).master.pid, otherLivePid)
    assert.equal((await findTarget({dir: '/'}, deps(processes, folders).deps)).master.pid, otherLivePid)
    // run from the folder of one of them, that one is meant
    assert.equal((await findTarget({cwd: '/'}, deps(processes, folders).deps)).master.pid, otherLivePid)
  })

  it('a scan finding none: exit 3 saying where ctl looked', async () => {
    await assert.rejects(
      findTarget({cwd: '/nonexistent-dir'}, deps([]).deps),
      isCtlError(EXIT.noMaster, /no Puma master is running/),
    )
  })
})
