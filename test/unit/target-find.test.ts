import {strict as assert} from 'node:assert'
import {type ChildProcess, spawn} from 'node:child_process'
import {chownSync, lchownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {CtlError, EXIT} from '../../src/errors.js'
import {appFolderOf, appFolderOfFile, isWithin} from '../../src/target/app-folder.js'
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

function write(path: string, text: string): void {
  mkdirSync(dirname(path), {recursive: true})
  writeFileSync(path, text)
}

/** The injected world: process table, working folders, users (root unless said), and the calling user (root). */
function world(processes: ProcessEntry[], folders: Record<number, string>, uids: Record<number, number> = {}) {
  const {calls, deps: base} = deps(processes, folders)
  return {calls, deps: {...base, uidOf: (pid: number) => uids[pid] ?? 0, ownUid: 0}}
}

/** A user other than root owns `path` (a symlink there itself): chown as root, else it is ours already. */
function ownedByAUser(path: string): number {
  if (process.getuid?.() !== 0) return statSync(path).uid
  lchownSync(path, 12_345, 12_345)
  return 12_345
}

/** A Capistrano deploy in `base`: releases r1 and r2, `current` -> r2, shared/tmp/pids, each release's tmp/pids -> shared's. */
function deploy(base: string): string {
  mkdirSync(join(base, 'shared', 'tmp', 'pids'), {recursive: true})
  for (const release of ['r1', 'r2']) {
    mkdirSync(join(base, 'releases', release, 'tmp'), {recursive: true})
    symlinkSync(join(base, 'shared', 'tmp', 'pids'), join(base, 'releases', release, 'tmp', 'pids'))
  }

  symlinkSync(join(base, 'releases', 'r2'), join(base, 'current'))
  return base
}

/** A PID no process has: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn('true')
  await new Promise((resolve) => {
    child.on('close', resolve)
  })
  return child.pid!
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

  describe('who may name a master (trust.ts, app-folder.ts)', () => {
    let root: string
    /** Files and folders under the test's folder. */
    const at = (...parts: string[]) => join(root, ...parts)
    /** App A's config, naming app B's genuine state file (owned by B's master's user, in B's tmp). */
    const setUp = (config: string) => {
      write(at('b', 'tmp', 'pids', 'puma.state'), `---\npid: ${livePid}\nrunning_from: "${at('b')}"\n`)
      write(at('a', 'config', 'puma.rb'), config)
      mkdirSync(at('elsewhere'))
      return world(master(livePid, 'b'), {[livePid]: at('b')})
    }

    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'ctl-trust-'))
    })

    afterEach(() => rmSync(root, {recursive: true, force: true}))

    describe('the app a folder or file belongs to', () => {
      it("a file in an app's tmp belongs to the folder above tmp; the system's tmp is no app's", () => {
        assert.equal(appFolderOfFile('/srv/app/tmp/pids/puma.pid'), '/srv/app')
        assert.equal(appFolderOfFile('/srv/app/tmp/puma.state'), '/srv/app')
        assert.equal(appFolderOfFile('/srv/tmp-app/tmp/cache/tmp/pids/x.pid'), '/srv/tmp-app/tmp/cache')
        for (const outside of ['/tmp/puma.pid', '/var/tmp/puma.pid', '/run/puma/app.pid', '/srv/app/puma.pid'])
          assert.equal(appFolderOfFile(outside), undefined, outside)
      })

      it('a release, current and shared belong to the deploy; a folder merely named releases does not', () => {
        const base = deploy(at('app'))
        for (const folder of ['releases/r1', 'releases/r2', 'current', 'shared', '.'])
          assert.equal(appFolderOf(join(base, folder)), base, folder)
        // a release removed since the master started from it, as /proc/PID/cwd shows it
        assert.equal(appFolderOf(`${join(base, 'releases', 'r0')} (deleted)`), base)
        assert.equal(appFolderOfFile(join(base, 'shared', 'tmp', 'pids', 'puma.pid')), base)
        assert.equal(appFolderOfFile(join(base, 'current', 'tmp', 'pids', 'puma.pid')), base)
        mkdirSync(at('plain', 'releases', 'one'), {recursive: true})
        assert.equal(appFolderOf(at('plain', 'releases', 'one')), at('plain', 'releases', 'one'))
      })

      it('nothing is within the root folder', () => {
        assert.ok(isWithin('/srv/app/x', '/srv/app'))
        assert.ok(!isWithin('/srv/application', '/srv/app'))
        assert.ok(!isWithin('/srv/app', '/'))
      })
    })

    describe('a pidfile or state file', () => {
      it("owned by a user who is not the master's: exit 3 naming both users, --pid suggested, nothing sent", async () => {
        const pidfile = at('app', 'tmp', 'pids', 'puma.pid')
        write(pidfile, `${livePid}\n`)
        const owner = ownedByAUser(pidfile)
        const {calls, deps: injected} = world(master(livePid, 'a'), {[livePid]: at('app')}, {[livePid]: owner + 1})
        await assert.rejects(findTarget({pidfile}, injected), (error: unknown) => {
          assert.ok(
            isCtlError(
              EXIT.noMaster,
              new RegExp(`is owned by .*uid ${owner}\\b.*, but pid ${livePid} runs as .*uid ${owner + 1}\\b`),
            )(error),
            String(error),
          )
          assert.match((error as CtlError).suggestion!, new RegExp(`pass --pid ${livePid}`))
          return true
        })
        assert.ok(calls.every(([, signal]) => signal === 0))
        // the master's own user's file, and root's, are trusted
        const mastersOwn = world(master(livePid, 'a'), {[livePid]: at('app')}, {[livePid]: owner}).deps
        assert.equal((await findTarget({pidfile}, mastersOwn)).master.pid, livePid)
        chownSync(pidfile, 0, 0)
        assert.equal(
          (await findTarget({pidfile}, deps(master(livePid, 'a'), {[livePid]: at('app')}).deps)).master.pid,
          livePid,
        )
      })

      it("a symlink another user put in the pidfile's place: the link's owner counts too", async function () {
        if (process.getuid?.() !== 0) this.skip() // only root can give a file to another user
        write(at('b', 'tmp', 'pids', 'puma.pid'), `${livePid}\n`)
        mkdirSync(at('a', 'tmp', 'pids'), {recursive: true})
        symlinkSync(at('b', 'tmp', 'pids', 'puma.pid'), at('a', 'tmp', 'pids', 'puma.pid'))
        lchownSync(at('a', 'tmp', 'pids', 'puma.pid'), 12_345, 12_345)
        const {deps: injected} = world(master(livePid, 'b'), {[livePid]: at('a')})
        await assert.rejects(
          findTarget({pidfile: 'tmp/pids/puma.pid', cwd: at('a')}, injected),
          isCtlError(EXIT.noMaster, /is owned by .*uid 12345/),
        )
      })

      it("in app A's tmp, naming app B's master (a reused PID, a copy): exit 3 naming both folders", async () => {
        write(at('a', 'tmp', 'pids', 'puma.pid'), `${livePid}\n`)
        write(at('a', 'tmp', 'pids', 'puma.state'), `---\npid: ${livePid}\nrunning_from: "${at('a')}"\n`)
        mkdirSync(at('b'))
        const {calls, deps: injected} = world(master(livePid, 'b'), {[livePid]: at('b')})
        for (const selector of [
          {cwd: at('a')},
          {pidfile: at('a', 'tmp', 'pids', 'puma.pid')},
          {state: at('a', 'tmp', 'pids', 'puma.state')},
        ]) {
          // eslint-disable-next-line no-await-in-loop -- one after the other, each on its own
          await assert.rejects(
            findTarget(selector, injected),
            isCtlError(
              EXIT.noMaster,
              new RegExp(`belongs to the app in ${at('a')}, but pid ${livePid} runs from ${at('b')}$`),
            ),
            JSON.stringify(selector),
          )
        }

        assert.ok(calls.every(([, signal]) => signal === 0))
        // the same files name the master of app A
        assert.equal(
          (await findTarget({cwd: at('a')}, world(master(livePid, 'a'), {[livePid]: at('a')}).deps)).master.pid,
          livePid,
        )
      })

      it('a Capistrano deploy: shared/tmp/pids names the master of any release, found from current or by path', async () => {
        const base = deploy(at('app'))
        write(join(base, 'shared', 'tmp', 'pids', 'puma.pid'), `${livePid}\n`)
        const releases = [
          join(base, 'releases', 'r1'),
          `${join(base, 'releases', 'r0')} (deleted)`,
          join(base, 'releases', 'r2'),
        ]
        const found = await Promise.all(
          releases.map(async (folder) => {
            const {deps: injected} = world(master(livePid, 'app'), {[livePid]: folder})
            const fromCurrent = await findTarget({cwd: join(base, 'releases', 'r2')}, injected)
            const byPath = await findTarget({pidfile: join(base, 'shared', 'tmp', 'pids', 'puma.pid')}, injected)
            return [fromCurrent.origin, byPath.master.pid]
          }),
        )
        assert.deepEqual(
          found,
          releases.map(() => ['pidfile tmp/pids/puma.pid', livePid]),
        )

        // another deploy's master is not named by it
        const other = deploy(at('other'))
        await assert.rejects(
          findTarget(
            {cwd: join(base, 'current')},
            world(master(livePid, 'x'), {[livePid]: join(other, 'releases', 'r1')}).deps,
          ),
          isCtlError(
            EXIT.noMaster,
            new RegExp(`belongs to the app in ${base}, but pid ${livePid} runs from ${join(other, 'releases', 'r1')}`),
          ),
        )
      })

      it("in no app's folder (a systemd unit's /run/puma/app.pid): trusted when ctl runs from the master's app", async () => {
        const pidfile = at('run', 'puma', 'app.pid')
        write(pidfile, `${livePid}\n`)
        assert.equal(appFolderOfFile(pidfile), undefined, `this test needs ${tmpdir()} to be the system's tmp`)
        mkdirSync(at('app'))
        mkdirSync(at('elsewhere'))
        const {deps: injected} = world(master(livePid, 'app'), {[livePid]: at('app')})
        assert.equal((await findTarget({pidfile, cwd: at('app')}, injected)).master.pid, livePid)
        await assert.rejects(
          findTarget({pidfile, cwd: at('elsewhere')}, injected),
          isCtlError(
            EXIT.noMaster,
            new RegExp(
              `is in no app's folder, and pid ${livePid} runs from ${at('app')}, not from ${at('elsewhere')}$`,
            ),
          ),
        )
        // inside the master's folder, though not in its tmp: the master's (the test clusters' layout)
        write(at('app', 'puma.pid'), `${livePid}\n`)
        assert.equal(
          (await findTarget({pidfile: at('app', 'puma.pid'), cwd: at('elsewhere')}, injected)).master.pid,
          livePid,
        )
        // --pid is never subject to it
        assert.equal((await findTarget({pid: livePid, cwd: at('elsewhere')}, injected)).master.pid, livePid)
      })
    })

    describe("a pidfile or state file a config names (another user's config is code they chose)", () => {
      const configs: Array<[string, () => string]> = [
        ['by its path', () => `state_path '${at('b', 'tmp', 'pids', 'puma.state')}'\n`],
        ['through `directory`', () => `directory '${at('b')}'\nstate_path 'tmp/pids/puma.state'\n`],
        ['through a symlink in app A to app B', () => "state_path 'x/tmp/pids/puma.state'\n"],
      ]
      for (const [how, config] of configs) {
        it(`app A's config naming app B's state file ${how}: exit 3 from A's folder or with -F, nothing sent`, async () => {
          const {calls, deps: injected} = setUp(config())
          // relative paths resolve against ctl's folder, as pumactl's do
          symlinkSync(at('b'), at('a', 'x'))
          symlinkSync(at('b'), at('elsewhere', 'x'))
          symlinkSync(at('b'), at('b', 'x'))
          for (const selector of [{cwd: at('a')}, {cwd: at('elsewhere'), configFile: at('a', 'config', 'puma.rb')}]) {
            // eslint-disable-next-line no-await-in-loop -- one after the other, each on its own
            await assert.rejects(findTarget(selector, injected), (error: unknown) => {
              assert.ok(
                isCtlError(
                  EXIT.noMaster,
                  new RegExp(`named by .*config/puma.rb.*: pid ${livePid} runs from ${at('b')}, an app that neither`),
                )(error),
                String(error),
              )
              assert.match((error as CtlError).suggestion!, new RegExp(`pass --pid ${livePid}`))
              return true
            })
          }

          assert.ok(calls.every(([, signal]) => signal === 0))
          // from app B's own folder, what the config names is B's master
          const fromB = await findTarget({cwd: at('b'), configFile: at('a', 'config', 'puma.rb')}, injected)
          assert.equal(fromB.master.pid, livePid)
        })
      }

      it("a config inside the master's app (a release's config/puma.rb, -F from anywhere) names it", async () => {
        const {deps: injected} = setUp('')
        rmSync(at('b', 'tmp', 'pids', 'puma.state'))
        write(at('b', 'config', 'puma.rb'), `state_path '${at('b', 'run', 'puma.state')}'\n`)
        write(at('b', 'run', 'puma.state'), `---\npid: ${livePid}\n`)
        const viaF = await findTarget({cwd: at('elsewhere'), configFile: at('b', 'config', 'puma.rb')}, injected)
        assert.equal(viaF.master.pid, livePid)
      })
    })

    describe('a scan is for looking, not for acting', () => {
      it('from a folder that is not its app: status shows it, acting is refused; --dir names it', async () => {
        mkdirSync(at('b'))
        mkdirSync(at('home'))
        const {calls, deps: injected} = world(master(livePid, 'b'), {[livePid]: at('b')})
        await assert.rejects(findTarget({cwd: at('home')}, injected), (error: unknown) => {
          assert.ok(
            isCtlError(
              EXIT.noMaster,
              new RegExp(
                `^refusing to act on pid ${livePid}, found only by a process scan: it runs from ${at('b')}, not from ${at('home')}$`,
              ),
            )(error),
            String(error),
          )
          assert.match((error as CtlError).suggestion!, /--dir .*--pid \d+ .*ctl status/)
          return true
        })
        assert.ok(calls.every(([, signal]) => signal === 0))
        assert.equal((await findTarget({cwd: at('home'), intent: 'look'}, injected)).master.pid, livePid)
        assert.equal((await findTarget({cwd: at('home'), dir: at('b')}, injected)).master.pid, livePid)
        assert.equal((await findTarget({cwd: at('b')}, injected)).master.pid, livePid)
        // from inside its app, yes; from the folder above it, no
        mkdirSync(at('b', 'config'))
        assert.equal((await findTarget({cwd: at('b', 'config')}, injected)).master.pid, livePid)
        await assert.rejects(findTarget({cwd: root}, injected), isCtlError(EXIT.noMaster, /^refusing to act/))
      })

      it("--dir through a symlink another user owns (app A's link to app B): exit 3 naming the link, nothing sent", async function () {
        if (process.getuid?.() !== 0) this.skip() // only root can give a link to another user
        mkdirSync(at('b'))
        mkdirSync(at('a'))
        mkdirSync(at('home'))
        symlinkSync(at('b'), at('a', 'current'))
        lchownSync(at('a', 'current'), 12_345, 12_345)
        const {calls, deps: injected} = world(master(livePid, 'b'), {[livePid]: at('b')})
        await assert.rejects(
          findTarget({cwd: at('home'), dir: at('a', 'current')}, injected),
          isCtlError(
            EXIT.noMaster,
            new RegExp(`^--dir .*a/current goes through a symlink owned by uid 12345 \\(${at('a', 'current')}\\)`),
          ),
        )
        assert.ok(calls.every(([, signal]) => signal === 0))
        // the master's own user's link, and root's, are trusted; --dir relative to ctl's folder too
        const own = world(master(livePid, 'b'), {[livePid]: at('b')}, {[livePid]: 12_345}).deps
        assert.equal((await findTarget({cwd: at('a'), dir: 'current'}, own)).master.pid, livePid)
        lchownSync(at('a', 'current'), 0, 0)
        assert.equal((await findTarget({cwd: at('home'), dir: at('a', 'current')}, injected)).master.pid, livePid)
      })

      it("`cd` through a symlink another user owns (app A's current to app B), then ctl: exit 3 naming the link", async function () {
        if (process.getuid?.() !== 0) this.skip() // only root can give a link to another user
        mkdirSync(at('b', 'tmp', 'pids'), {recursive: true})
        mkdirSync(at('a'))
        writeFileSync(at('b', 'tmp', 'pids', 'puma.pid'), `${livePid}\n`)
        symlinkSync(at('b'), at('a', 'current'))
        lchownSync(at('a', 'current'), 12_345, 12_345)
        const {calls, deps: injected} = world(master(livePid, 'b'), {[livePid]: at('b')})
        const before = process.cwd()
        process.chdir(at('a', 'current'))
        try {
          await assert.rejects(
            findTarget({}, {...injected, pwd: at('a', 'current')}),
            isCtlError(
              EXIT.noMaster,
              /^the folder ctl runs in \(.*a\/current\) goes through a symlink owned by uid 12345/,
            ),
          )
          assert.ok(calls.every(([, signal]) => signal === 0))
          // looking is fine; and coming by the real path, or by root's link, acts
          assert.equal((await findTarget({intent: 'look'}, {...injected, pwd: at('a', 'current')})).master.pid, livePid)
          assert.equal((await findTarget({}, {...injected, pwd: at('b')})).master.pid, livePid)
          lchownSync(at('a', 'current'), 0, 0)
          assert.equal((await findTarget({}, {...injected, pwd: at('a', 'current')})).master.pid, livePid)
        } finally {
          process.chdir(before)
        }
      })

      it("--tag: another user's master only with --dir; the caller's own user's master as it is", async () => {
        mkdirSync(at('b'))
        mkdirSync(at('home'))
        const others = world(master(livePid, 'app2'), {[livePid]: at('b')}, {[livePid]: 12_345}).deps
        await assert.rejects(
          findTarget({cwd: at('home'), tag: 'app2'}, others),
          isCtlError(
            EXIT.noMaster,
            /^refusing to act on pid \d+, tagged app2: it runs from .*, as uid 12345, and any user can give a Puma that tag$/,
          ),
        )
        assert.equal((await findTarget({cwd: at('home'), tag: 'app2', dir: at('b')}, others)).master.pid, livePid)
        assert.equal((await findTarget({cwd: at('home'), tag: 'app2', intent: 'look'}, others)).master.pid, livePid)
        assert.equal((await findTarget({cwd: at('b'), tag: 'app2'}, others)).master.pid, livePid)
        const own = {...others, ownUid: 12_345}
        assert.equal((await findTarget({cwd: at('home'), tag: 'app2'}, own)).master.pid, livePid)
      })

      it('--dir resolves current now, and finds the master still running from the release it pointed to before', async () => {
        const base = deploy(at('app'))
        const folders = {[livePid]: join(base, 'releases', 'r1')}
        const {deps: injected} = world(master(livePid, 'app'), folders)
        assert.equal((await findTarget({dir: join(base, 'current'), cwd: '/'}, injected)).master.pid, livePid)
        assert.equal((await findTarget({dir: base, cwd: '/'}, injected)).master.pid, livePid)
        // its release since removed
        const removed = world(master(livePid, 'app'), {[livePid]: `${join(base, 'releases', 'r0')} (deleted)`}).deps
        assert.equal((await findTarget({dir: join(base, 'current'), cwd: '/'}, removed)).master.pid, livePid)
        // a master in each release: current's own is meant
        const both = world([...master(livePid, 'app'), ...master(otherLivePid, 'app')], {
          [livePid]: join(base, 'releases', 'r1'),
          [otherLivePid]: join(base, 'releases', 'r2'),
        }).deps
        assert.equal((await findTarget({dir: join(base, 'current'), cwd: '/'}, both)).master.pid, otherLivePid)
        // another deploy's master is not found
        await assert.rejects(
          findTarget({dir: deploy(at('other')), cwd: '/'}, injected),
          isCtlError(EXIT.noMaster, /no Puma master is running in /),
        )
      })
    })

    describe('a stale default file', () => {
      it('falls through to the next default file, with a warning; all stale: the first one says so', async () => {
        const dead = await deadPid()
        write(at('app', 'tmp', 'pids', 'puma.state'), `---\npid: ${dead}\n`)
        write(at('app', 'tmp', 'pids', 'puma.pid'), `${livePid}\n`)
        const {deps: injected} = world(master(livePid, 'app'), {[livePid]: at('app')})
        const target = await findTarget({cwd: at('app')}, injected)
        assert.equal(target.master.pid, livePid)
        assert.equal(target.origin, 'pidfile tmp/pids/puma.pid')
        assert.deepEqual(target.warnings, [
          `tmp/pids/puma.state names pid ${dead}, which is not running: used tmp/pids/puma.pid`,
        ])
        // explicit files are taken as given
        await assert.rejects(
          findTarget({cwd: at('app'), state: 'tmp/pids/puma.state'}, injected),
          isCtlError(EXIT.noMaster, new RegExp(`state file tmp/pids/puma.state: process ${dead} is not running`)),
        )
        write(at('app', 'tmp', 'pids', 'puma.pid'), `${dead}\n`)
        await assert.rejects(
          findTarget({cwd: at('app')}, injected),
          isCtlError(EXIT.noMaster, new RegExp(`^state file tmp/pids/puma.state: process ${dead} is not running$`)),
        )
      })
    })
  })
})
