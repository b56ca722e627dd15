import {strict as assert} from 'node:assert'
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {CtlError, EXIT} from '../../src/errors.js'
import {findTarget, masterOf, reach, viaFor} from '../../src/target/index.js'
import {type ProcessEntry} from '../../src/target/process-table.js'

const isCtlError = (exit: number, message?: RegExp) => (error: unknown) =>
  error instanceof CtlError && error.exitCode === exit && (!message || message.test(error.message))

/** A Puma master with one worker, as the process table shows them. */
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

const pidsOf = (candidates: Array<{pid: number}>) => candidates.map((c) => c.pid)

/** An injected process table and working folders, and a kill that records instead of signalling. */
function deps(processes: ProcessEntry[], folders: Record<number, string> = {}) {
  const calls: Array<[number, 0 | NodeJS.Signals]> = []
  const kill = (pid: number, signal: 0 | NodeJS.Signals) => {
    calls.push([pid, signal])
  }

  return {calls, deps: {kill, listProcesses: async () => processes, cwdOf: async (pid: number) => folders[pid]}}
}

describe('target: finding the master with an injected process table and kill', () => {
  // Live processes whose PIDs the injected tables describe as Puma masters (liveness reads /proc).
  let sleepers: ChildProcess[] = []
  let livePid: number
  let otherLivePid: number
  let folder: string

  before(() => {
    sleepers = [spawn('sleep', ['60']), spawn('sleep', ['60'])]
    ;[livePid, otherLivePid] = sleepers.map((child) => child.pid!)
    folder = mkdtempSync(join(tmpdir(), 'ctl-target-'))
  })

  after(() => {
    for (const child of sleepers) child.kill('SIGKILL')
    rmSync(folder, {recursive: true, force: true})
  })

  describe('findTarget', () => {
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
        assert.deepEqual(pidsOf(data!.candidates as Array<{pid: number}>), [livePid, otherLivePid])
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

  describe('reach: a master, or only a control server', () => {
    it('only a control URL: the control server alone; no process is looked at or signalled', async () => {
      const untouchable = {
        kill() {
          throw new Error('kill must not be called')
        },
        async listProcesses(): Promise<ProcessEntry[]> {
          throw new Error('the process table must not be read')
        },
      }
      const reached = await reach({controlUrl: 'unix:///nowhere.sock', controlToken: 'tok'}, untouchable)
      assert.deepEqual(reached, {
        kind: 'control',
        control: {url: 'unix:///nowhere.sock', token: 'tok', origin: '--control-url'},
      })
      assert.equal(viaFor(reached), 'control')
      assert.equal(masterOf(reached), undefined)
      // null from an untyped caller, beside the URL: still the control server alone, no scan.
      const withNull = await reach({controlUrl: 'unix:///nowhere.sock', pidfile: null as never}, untouchable)
      assert.equal(withNull.kind, 'control')
    })

    it('a PID and a control URL: the verified master, with that control server', async () => {
      const {calls, deps: injected} = deps(master(livePid, 'a'))
      const reached = await reach({pid: livePid, controlUrl: 'tcp://127.0.0.1:9293'}, injected)
      assert.ok(reached.kind === 'master')
      assert.equal(reached.target.master.pid, livePid)
      assert.equal(reached.target.origin, `--pid ${livePid}`)
      assert.deepEqual(reached.control, {url: 'tcp://127.0.0.1:9293', token: undefined, origin: '--control-url'})
      assert.equal(viaFor(reached), 'signal')
      assert.equal(viaFor(reached, 'control'), 'control')
      assert.equal(masterOf(reached), reached.target.master)
      assert.ok(
        calls.every(([, signal]) => signal === 0),
        'only kill(pid, 0) while verifying',
      )
    })

    it('a state file: the master it names, with the control server and token it records', async () => {
      writeFileSync(
        join(folder, 'puma.state'),
        `---\npid: ${livePid}\ncontrol_url: unix://${folder}/ctl.sock\ncontrol_auth_token: abc123\n`,
      )
      const reached = await reach({state: 'puma.state', cwd: folder}, deps(master(livePid, 'a')).deps)
      assert.ok(reached.kind === 'master')
      assert.equal(reached.target.master.pid, livePid)
      assert.deepEqual(reached.control, {
        url: `unix://${folder}/ctl.sock`,
        token: 'abc123',
        origin: 'state file puma.state',
        statePath: join(folder, 'puma.state'),
      })
    })

    it('a master whose control server is not known: the master without one', async () => {
      const reached = await reach({pid: String(livePid)}, deps(master(livePid, 'a')).deps)
      assert.ok(reached.kind === 'master')
      assert.equal(reached.control, undefined)
      assert.equal(viaFor(reached), 'signal')
    })

    it('a control URL beside a PID that is not one: the PID is refused, not ignored', async () => {
      const {calls, deps: injected} = deps(master(livePid, 'a'))
      await assert.rejects(
        reach({pid: 0, controlUrl: 'tcp://127.0.0.1:9293'}, injected),
        isCtlError(EXIT.noMaster, /invalid --pid: 0 is not a PID/),
      )
      assert.deepEqual(calls, [])
    })

    it('an empty master key names nothing: the control server alone', async () => {
      assert.equal((await reach({pidfile: '', controlUrl: 'tcp://127.0.0.1:9293'})).kind, 'control')
    })
  })
})
