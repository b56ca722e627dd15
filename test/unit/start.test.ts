import {strict as assert} from 'node:assert'
import {type ChildProcess, spawn} from 'node:child_process'
import {EventEmitter} from 'node:events'
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {CtlError, EXIT} from '../../src/errors.js'
import {type RestartState} from '../../src/restart/machine.js'
import {type PumaCommand, pumaCommand} from '../../src/restart/puma-command.js'
import {FORWARDED_SIGNALS, runInForeground} from '../../src/restart/spawn-puma.js'
import {startupMark} from '../../src/restart/start-logs.js'
import {type StartDeps, startPuma, type StartReport} from '../../src/restart/start.js'
import {type RunningMaster, runningMasterOf} from '../../src/target/running.js'
import {settle} from '../helpers/fake-clock.js'
import {FakeKernel} from '../helpers/fake-kernel.js'
import {waitFor} from '../helpers/processes.js'
import {fromMaster, MASTER, RestartWorld, type Settled} from '../helpers/restart-world.js'

const COMMAND: PumaCommand = {argv: ['/usr/bin/puma'], launcher: '--puma', shown: '/usr/bin/puma'}

/** Puma 5.6's banner in cluster mode, as the master writes it before it forks its workers. */
const CLUSTER_BANNER = fromMaster(
  'Puma starting in cluster mode...',
  '* Puma version: 5.6.5 (ruby 3.1.2-p20) ("Birdie\'s Version")',
  '*      Workers: 2',
  '*     Restarts: (✔) hot (✔) phased',
  '* Listening on http://127.0.0.1:9292',
  'Use Ctrl-C to stop',
)

/** A process table with one Puma master. */
const table = (pid: number) => async () => [
  {pid, ppid: 1, cmd: 'puma 5.6.5 (tcp://127.0.0.1:9292) [app]', argv: ['puma 5.6.5 (tcp://127.0.0.1:9292) [app]']},
]

/** The files that exist (and are executable), and the programs on PATH. */
const lookup = (files: string[], onPath: Record<string, string> = {}) => ({
  exists: (path: string) => files.includes(path),
  isExecutable: (path: string) => files.includes(path),
  which: (name: string) => onPath[name],
})

/** A whole start with every side effect faked: RestartWorld's log, clock and kernel, plus a spawn and a kill that record. */
class StartWorld {
  readonly kernel = new FakeKernel(MASTER, [])
  readonly killed: Array<[number, NodeJS.Signals]> = []
  result: Settled<StartReport> = {status: 'pending'}
  readonly spawned: PumaCommand[] = []
  readonly states: RestartState[] = []
  readonly world = new RestartWorld({workers: 0, kernel: () => this.kernel})

  constructor(private readonly running?: RunningMaster) {}

  error(exitCode: number): CtlError {
    assert.equal(this.result.status, 'rejected', `expected a rejection, got ${this.result.status}`)
    const {error} = this.result as {error: unknown}
    assert.ok(error instanceof CtlError, String(error))
    assert.equal(error.exitCode, exitCode, error.message)
    return error
  }

  /** Lets the lines written reach the machine through the start's two followers. */
  async flush(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      // eslint-disable-next-line no-await-in-loop -- one event-loop turn after another
      await settle()
    }
  }

  report(): StartReport {
    if (this.result.status === 'rejected') throw this.result.error
    assert.equal(this.result.status, 'fulfilled')
    return (this.result as {value: StartReport}).value
  }

  start(timeoutMs = 60_000): Promise<StartReport> {
    const {world} = this
    const deps: StartDeps = {
      ...world.deps,
      kill: (pid, signal) => {
        this.killed.push([pid, signal])
        if (pid === MASTER) world.masterDead = true
      },
      runningMasterOf: async () => this.running,
      spawnPuma: async (command) => {
        this.spawned.push(command)
        return MASTER
      },
      startTicks: () => 4242,
      wallClock: () => Date.now(),
    }
    const promise = startPuma(
      {
        appDir: world.dir,
        command: COMMAND,
        config: {},
        logPath: world.logPath,
        signal: world.controller.signal,
        timeoutMs,
        wait: true,
        onUpdate: (state) => this.states.push(state),
      },
      deps,
    )
    promise.then(
      (value) => {
        this.result = {status: 'fulfilled', value}
      },
      (error: unknown) => {
        this.result = {status: 'rejected', error}
      },
    )
    return promise
  }

  async write(...lines: string[]): Promise<void> {
    await this.world.write(...lines)
    await this.flush()
  }
}

describe('ctl start', () => {
  describe('with every side effect faked', () => {
    let start: StartWorld

    afterEach(() => start.world.cleanUp())

    it('a cluster that boots: exit 0 once both workers boot and serve, with mode, workers and version', async () => {
      start = new StartWorld()
      start.start().catch(() => {})
      await start.flush()
      assert.deepEqual(start.spawned, [COMMAND])
      await start.write(...CLUSTER_BANNER)
      assert.equal(start.states.at(-1)?.mode, 'cluster')
      assert.equal(start.states.at(-1)?.workers, 2)
      start.kernel.fork(3000, 0, {booted: true})
      start.kernel.fork(3001, 1, {booted: true})
      await start.world.advance(300)
      await start.write(...fromMaster('- Worker 0 (PID: 3000) booted in 0.3s, phase: 0'))
      assert.equal(start.result.status, 'pending', 'one worker of two')
      await start.write(...fromMaster('- Worker 1 (PID: 3001) booted in 0.3s, phase: 0'))
      const report = start.report()
      assert.ok(report.waited)
      assert.equal(report.pid, MASTER)
      assert.equal(report.mode, 'cluster')
      assert.equal(report.workers, 2)
      assert.equal(report.version, '5.6.5')
      assert.equal(report.durationMs, 300)
      assert.equal(report.command, '/usr/bin/puma')
      assert.equal(
        report.summary,
        `Puma 5.6.5 started in 0.30 s: cluster mode, 2/2 workers booted, master pid ${MASTER}, log puma.log`,
      )
      assert.deepEqual(start.killed, [])
      start.world.assertCleanedUp()
    })

    it('single mode: done at "Use Ctrl-C to stop" once the master runs its server thread', async () => {
      start = new StartWorld()
      start.start().catch(() => {})
      await start.flush()
      start.kernel.reexec() // a master without a server thread yet
      await start.write('Puma starting in single mode...', '* Puma version: 6.6.1 ("Return to Forever")')
      await start.write('Use Ctrl-C to stop')
      assert.equal(start.result.status, 'pending', 'no puma srv thread yet')
      start.kernel.boot(MASTER)
      await start.world.advance(100)
      await start.flush()
      const report = start.report()
      assert.ok(report.waited)
      assert.equal(report.mode, 'single')
      assert.match(report.summary, /^Puma 6\.6\.1 started in .*: single mode, master pid 1234/)
      start.world.assertCleanedUp()
    })

    it('an app that fails to load (preload): exit 5 with the error line once the master is gone', async () => {
      start = new StartWorld()
      start.start().catch(() => {})
      await start.flush()
      await start.write(
        ...CLUSTER_BANNER.slice(0, 3),
        ...fromMaster('* Preloading application', '! Unable to load application: RuntimeError: boom'),
      )
      start.world.masterDead = true
      await start.world.advance(600)
      await start.flush()
      const error = start.error(EXIT.workerFailed)
      assert.equal(error.message, 'Puma exited before it served: ! Unable to load application: RuntimeError: boom')
      assert.deepEqual(error.details, [`[${MASTER}] ! Unable to load application: RuntimeError: boom`])
      assert.equal((error.data as {outcome: string}).outcome, 'master-died')
      assert.deepEqual(start.killed, [], 'nothing left to stop')
      start.world.assertCleanedUp()
    })

    it("a Puma that dies saying nothing Puma's way (bundler's error): exit 5 with its last lines", async () => {
      start = new StartWorld()
      start.start().catch(() => {})
      await start.flush()
      await start.write(
        "Could not find gem 'puma' in locally installed gems.",
        'Run `bundle install` to install missing gems.',
      )
      start.world.masterDead = true
      await start.world.advance(600)
      await start.flush()
      const error = start.error(EXIT.workerFailed)
      assert.equal(error.message, "Puma exited before it served, with no error line of Puma's; its last output:")
      assert.deepEqual(error.details, [
        "Could not find gem 'puma' in locally installed gems.",
        'Run `bundle install` to install missing gems.',
      ])
      start.world.assertCleanedUp()
    })

    it('workers that fail to boot (no preload): exit 5 with their error lines, and ctl stops the Puma it started', async () => {
      start = new StartWorld()
      start.start().catch(() => {})
      await start.flush()
      await start.write(...CLUSTER_BANNER)
      start.kernel.fork(3000, 0)
      start.kernel.fork(3001, 1)
      await start.world.advance(50)
      await start.write('[3000] ! Unable to start worker', "[3000] config.ru:1:in `block in <main>'")
      await start.write('[3000] Early termination of worker')
      start.kernel.exit(3000)
      start.kernel.fork(3002, 0)
      await start.world.advance(20)
      await start.write('[3002] ! Unable to start worker', "[3002] config.ru:1:in `block in <main>'")
      await start.write('[3002] Early termination of worker')
      await start.world.advance(1000)
      await start.flush()
      const error = start.error(EXIT.workerFailed)
      assert.match(
        error.message,
        /^Worker 0 failed to boot while Puma started; ctl stopped the Puma it started \(pid 1234, SIGTERM\)$/,
      )
      assert.ok(error.details.includes('[3002] ! Unable to start worker'), String(error.details))
      assert.deepEqual(start.killed, [[MASTER, 'SIGTERM']])
      assert.equal((error.data as {stopped: boolean}).stopped, true)
      start.world.assertCleanedUp()
    })

    it('no boot before --timeout: exit 6, Puma left running', async () => {
      start = new StartWorld()
      start.start(60_000).catch(() => {})
      await start.flush()
      await start.write(...CLUSTER_BANNER)
      await start.world.advance(59_990)
      assert.equal(start.result.status, 'pending')
      await start.world.advance(20)
      await start.flush()
      const error = start.error(EXIT.timedOut)
      assert.equal(
        error.message,
        `Timed out after 60 s while Puma started: 0/2 workers booted; Puma (pid ${MASTER}) is left running`,
      )
      assert.deepEqual(start.killed, [])
      start.world.assertCleanedUp()
    })

    it("refuses (exit 2, nothing started) when this app's master runs", async () => {
      start = new StartWorld({pid: 4321, folder: '/srv/app', origin: 'pidfile tmp/pids/puma.pid'})
      await start.start().catch(() => {})
      const error = start.error(EXIT.usage)
      assert.match(error.message, /^Puma is already running for .*: master pid 4321 \(pidfile tmp\/pids\/puma\.pid/)
      assert.deepEqual(start.spawned, [])
    })
  })

  describe("--foreground: Puma in ctl's place", () => {
    /** What ended the run: the status ctl would exit with. */
    class Exited extends Error {
      constructor(readonly code: number) {
        super(`exit ${code}`)
      }
    }

    const foreground = async (script: string, ready: string, send: NodeJS.Signals) => {
      // eslint-disable-next-line unicorn/prefer-event-target -- it stands for process, an EventEmitter
      const signals = new EventEmitter()
      const run = runInForeground(
        {argv: ['sh', '-c', script], launcher: '--puma', shown: 'sh'},
        {cwd: tmpdir()},
        {
          exit(code) {
            throw new Exited(code)
          },
          signals: signals as unknown as NodeJS.Process,
          spawn,
        },
      ).catch((error: unknown) => error)
      await waitFor(
        () => existsSync(ready),
        10_000,
        () => `${ready} written once the trap is set`,
      )
      assert.deepEqual(
        FORWARDED_SIGNALS.filter((name) => signals.listenerCount(name) === 1),
        [...FORWARDED_SIGNALS],
        'a handler for every signal Puma knows',
      )
      signals.emit(send)
      const ended = await run
      assert.ok(ended instanceof Exited, String(ended))
      assert.deepEqual(
        FORWARDED_SIGNALS.filter((name) => signals.listenerCount(name) > 0),
        [],
        'handlers removed',
      )
      return ended.code
    }

    let folder: string

    beforeEach(() => {
      folder = mkdtempSync(join(tmpdir(), 'ctl-fg-'))
    })

    afterEach(() => rmSync(folder, {recursive: true, force: true}))

    it("passes ctl's signals on, and ends with the child's exit code", async () => {
      const ready = join(folder, 'ready')
      const script = `trap 'exit 7' USR2; touch ${ready}; while :; do sleep 0.05; done`
      assert.equal(await foreground(script, ready, 'SIGUSR2'), 7)
    })

    it('a child killed by a signal: 128 + its number, as a shell reports it', async () => {
      const ready = join(folder, 'ready')
      assert.equal(await foreground(`touch ${ready}; while :; do sleep 0.05; done`, ready, 'SIGTERM'), 143)
    })
  })

  describe('runningMasterOf: a master of this app, not of another', () => {
    let sleeper: ChildProcess
    let root: string
    let app: string
    let other: string

    before(() => {
      sleeper = spawn('sleep', ['60'])
      root = mkdtempSync(join(tmpdir(), 'ctl-start-'))
      app = join(root, 'app')
      other = join(root, 'other')
      mkdirSync(app)
      mkdirSync(other)
    })

    after(() => {
      sleeper.kill('SIGKILL')
      rmSync(root, {recursive: true, force: true})
    })

    it("finds the master running from the app's folder", async () => {
      const pid = sleeper.pid!
      const running = await runningMasterOf(app, {}, {listProcesses: table(pid), cwdOf: async () => app})
      assert.equal(running?.pid, pid)
      assert.equal(running?.folder, app)
    })

    it("a master of another app is no reason to refuse, even named by this app's pidfile", async () => {
      const pid = sleeper.pid!
      mkdirSync(join(app, 'tmp', 'pids'), {recursive: true})
      writeFileSync(join(app, 'tmp', 'pids', 'puma.pid'), `${pid}\n`)
      try {
        const running = await runningMasterOf(app, {}, {listProcesses: table(pid), cwdOf: async () => other})
        assert.equal(running, undefined)
      } finally {
        rmSync(join(app, 'tmp'), {recursive: true, force: true})
      }
    })

    it('nothing running: undefined', async () => {
      assert.equal(await runningMasterOf(app, {}, {listProcesses: async () => []}), undefined)
    })
  })

  describe('pumaCommand: which Puma, with which arguments', () => {
    const options = {appDir: '/srv/app', cwd: '/home/deploy', passThrough: [] as string[]}

    it('--puma first, then bin/puma, then bundle exec puma with a Gemfile, then puma on PATH', () => {
      const all = lookup(['/srv/app/bin/puma', '/srv/app/Gemfile'], {bundle: '/usr/bin/bundle', puma: '/usr/bin/puma'})
      assert.deepEqual(pumaCommand({...options, puma: 'vendor/puma'}, all).argv, ['/home/deploy/vendor/puma'])
      assert.equal(pumaCommand(options, all).launcher, 'bin/puma')
      const noBinstub = lookup(['/srv/app/Gemfile'], {bundle: '/usr/bin/bundle', puma: '/usr/bin/puma'})
      assert.deepEqual(pumaCommand(options, noBinstub).argv, ['/usr/bin/bundle', 'exec', 'puma'])
      const noGemfile = lookup([], {bundle: '/usr/bin/bundle', puma: '/usr/bin/puma'})
      assert.equal(pumaCommand(options, noGemfile).launcher, 'puma on PATH')
      assert.throws(
        () => pumaCommand(options, lookup([])),
        (error) => error instanceof CtlError && error.exitCode === EXIT.usage,
      )
    })

    it('-C for --config-file, -e for --environment, then what came after --', () => {
      const files = lookup(['/home/deploy/config/puma.rb'], {puma: '/usr/bin/puma'})
      const command = pumaCommand(
        {...options, configFile: 'config/puma.rb', environment: 'production', passThrough: ['-w', '2', "it's"]},
        files,
      )
      assert.deepEqual(command.argv, [
        '/usr/bin/puma',
        '-C',
        '/home/deploy/config/puma.rb',
        '-e',
        'production',
        '-w',
        '2',
        "it's",
      ])
      assert.equal(command.shown, String.raw`/usr/bin/puma -C /home/deploy/config/puma.rb -e production -w 2 'it'\''s'`)
      assert.throws(
        () => pumaCommand({...options, configFile: 'missing.rb'}, files),
        (error) => error instanceof CtlError && error.exitCode === EXIT.usage,
      )
    })
  })

  describe("startupMark: where a stdout_redirect target's lines of this start begin", () => {
    it("the first mark since the spawn, not an earlier boot's", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ctl-start-mark-'))
      const path = join(dir, 'puma.log')
      const earlier = '=== puma startup: 2020-01-01 10:00:00 +0000 ===\n[1] old line\n'
      const now = '=== puma startup: 2026-11-23 16:28:42 +0000 ===\n'
      writeFileSync(path, `${earlier}${now}[2] - Worker 0 (PID: 3) booted in 0.1s, phase: 0\n`)
      try {
        const at = await startupMark(path, Date.parse('2026-11-23T16:28:41Z'))
        assert.equal(at?.offset, earlier.length)
        assert.equal(await startupMark(path, Date.parse('2026-11-23T17:00:00Z')), undefined)
      } finally {
        rmSync(dir, {recursive: true, force: true})
      }
    })
  })
})
