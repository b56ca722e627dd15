import {strict as assert} from 'node:assert'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {EXIT} from '../../src/errors.js'
import {type BootCheckResult, runBootCheck} from '../../src/restart/boot-check.js'
import {wantsBootCheck} from '../../src/restart/boot-gate.js'
import {type BootPlan, planBootCheck, type PlanReads, realPlanReads} from '../../src/restart/boot-plan.js'
import {fromMaster, MASTER, RestartWorld} from '../helpers/restart-world.js'

const PRELOADING =
  fromMaster('Puma starting in cluster mode...', '*     Restarts: (✔) hot (✖) phased').join('\n') + '\n'
const PHASED = fromMaster('Puma starting in cluster mode...', '*     Restarts: (✔) hot (✔) phased').join('\n') + '\n'

const failing = (): BootCheckResult => ({
  durationMs: 900,
  error: 'RuntimeError: boom: simulated boot failure',
  folder: '/srv/app/releases/2',
  how: 'puma',
  lines: ["    from config.ru:1:in `block in <main>'"],
  linesOmitted: 3,
  ok: false,
  warnings: [],
})

const unavailable = (): BootCheckResult => ({...failing(), unavailable: 'ctl cannot read how master 1234 runs'})

describe('the boot check before a hot restart', () => {
  describe('a whole restart with the check faked', () => {
    let world: RestartWorld

    afterEach(() => world.cleanUp())

    it('a release that does not boot: exit 5, nothing sent, the error lines as details, check {ok: false} in the data', async () => {
      world = new RestartWorld({workers: 2, bootCheck: failing})
      const run = world.run({kind: 'hot'})
      await run.finished()
      const error = run.error(EXIT.workerFailed)
      assert.deepEqual(world.delivered, [])
      assert.equal(
        error.message,
        'the new release does not boot: RuntimeError: boom: simulated boot failure; the running server was not touched',
      )
      assert.deepEqual(error.details, ["    from config.ru:1:in `block in <main>'", '… 3 more lines'])
      assert.equal((error.data?.check as {ok: boolean}).ok, false)
      assert.equal(error.data?.sent, false)
      assert.deepEqual(world.bootChecks, [
        {
          pid: MASTER,
          options: {command: undefined, configFile: undefined, timeoutMs: 60_000, signal: world.controller.signal},
        },
      ])
      assert.equal(
        world.followSignals.every((signal) => signal.aborted),
        true,
        'nothing left following',
      )
    })

    it('a release that boots: the signal goes out, and the report says check {ok: true, durationMs}', async () => {
      world = new RestartWorld({workers: 2})
      const run = world.run({kind: 'hot', wait: false})
      await run.finished()
      assert.deepEqual(world.delivered, [{command: 'restart', via: 'signal'}])
      const {settled} = run
      assert.ok(settled.status === 'fulfilled')
      assert.deepEqual(settled.value.check, {ok: true, durationMs: 1200, how: 'puma', folder: world.dir})
      assert.deepEqual((await world.sent).check, settled.value.check, 'told with the start, for the progress line')
    })

    it('a phased restart Puma really does as phased: no check unless --check', async () => {
      world = new RestartWorld({workers: 2, logText: PHASED, bootCheck: failing})
      const run = world.run({wait: false})
      await run.finished()
      assert.deepEqual(world.bootChecks, [])
      assert.deepEqual(world.delivered, [{command: 'phased-restart', via: 'signal'}])
      world.cleanUp()

      world = new RestartWorld({workers: 2, logText: PHASED, bootCheck: failing})
      const forced = world.run({wait: false, check: true})
      await forced.finished()
      forced.error(EXIT.workerFailed)
      assert.deepEqual(world.delivered, [])
    })

    it('a USR1 Puma turns into a hot restart (preload in the banner): checked first, nothing sent when it fails', async () => {
      world = new RestartWorld({workers: 2, logText: PRELOADING, bootCheck: failing})
      const run = world.run({wait: false})
      await run.finished()
      run.error(EXIT.workerFailed)
      assert.equal(world.bootChecks.length, 1)
      assert.deepEqual(world.delivered, [])
    })

    it('the check loaded another Puma than the master runs: said in a warning', async () => {
      world = new RestartWorld({
        workers: 2,
        bootCheck: () => ({
          durationMs: 1,
          how: 'puma',
          lines: [],
          linesOmitted: 0,
          ok: true,
          pumaVersion: '8.0.2',
          warnings: [],
        }),
      })
      const run = world.run({kind: 'hot', wait: false})
      await run.finished()
      const {settled} = run
      assert.ok(settled.status === 'fulfilled')
      assert.ok(settled.value.warnings.some((w) => /loaded Puma 8.0.2, but the master runs Puma 5.6.5/.test(w)))
    })

    it('--no-check: no check, the signal goes out', async () => {
      world = new RestartWorld({workers: 2, bootCheck: failing})
      const run = world.run({kind: 'hot', wait: false, check: false})
      await run.finished()
      assert.deepEqual(world.bootChecks, [])
      assert.deepEqual(world.delivered, [{command: 'restart', via: 'signal'}])
    })

    it('--check-command and --check-timeout reach the check', async () => {
      world = new RestartWorld({workers: 2, logText: PHASED})
      const run = world.run({wait: false, checkCommand: 'bin/rails runner 1', checkTimeoutMs: 5000})
      await run.finished()
      assert.deepEqual(world.bootChecks[0].options, {
        command: 'bin/rails runner 1',
        configFile: undefined,
        timeoutMs: 5000,
        signal: world.controller.signal,
      })
      assert.equal(world.delivered.length, 1)
    })

    it('Ctrl-C during the check (which kills it): exit 130, not a release that "does not boot", and nothing sent', async () => {
      world = new RestartWorld({
        workers: 2,
        bootCheck() {
          world.controller.abort()
          return {...failing(), error: 'Ruby was killed by SIGKILL before it told whether the release loads'}
        },
      })
      const run = world.run({kind: 'hot'})
      await run.finished()
      run.error(EXIT.interrupted)
      assert.deepEqual(world.delivered, [])
    })

    it('-F relative to where ctl runs, not to the app folder the check runs in', async () => {
      world = new RestartWorld({workers: 2})
      const run = world.run({kind: 'hot', wait: false, configFile: 'config/puma.rb', cwd: '/srv/app'})
      await run.finished()
      assert.equal(world.bootChecks[0].options.configFile, '/srv/app/config/puma.rb')
    })

    it('no check possible: a warning when ctl chose it, exit 2 (nothing sent) when the user asked for it', async () => {
      world = new RestartWorld({workers: 2, bootCheck: unavailable})
      const run = world.run({kind: 'hot', wait: false})
      await run.finished()
      const {settled} = run
      assert.ok(settled.status === 'fulfilled')
      assert.ok(settled.value.warnings.some((w) => /not checked before the restart: ctl cannot read/.test(w)))
      world.cleanUp()

      world = new RestartWorld({workers: 2, bootCheck: unavailable})
      const asked = world.run({kind: 'hot', wait: false, check: true})
      await asked.finished()
      asked.error(EXIT.usage)
      assert.deepEqual(world.delivered, [])
    })
  })

  it('when: every hot restart; a USR1 only when it will be one; never a refork; the flags decide first', () => {
    const master = (version: string, workers = 2) => ({
      pid: 1,
      cmd: '',
      binds: [],
      version,
      workers: Array.from({length: workers}, (_, index) => ({index, pid: 10 + index})),
    })
    const cases: Array<[Parameters<typeof wantsBootCheck>, boolean]> = [
      [[{kind: 'hot'}, {phasedAvailable: true}, master('5.6.5')], true],
      [[{kind: 'phased'}, {phasedAvailable: true}, master('8.0.2')], false],
      [[{kind: 'phased'}, {phasedAvailable: false}, master('5.6.5')], true],
      [[{kind: 'phased'}, {phasedAvailable: undefined}, master('8.0.2')], true],
      [[{kind: 'phased'}, {phasedAvailable: undefined}, master('8.0.2', 1)], false],
      [[{kind: 'phased'}, {phasedAvailable: undefined}, master('6.6.1')], false],
      [[{kind: 'phased', refork: true}, {phasedAvailable: undefined}, master('8.0.2')], false],
      [[{kind: 'phased', check: true}, {phasedAvailable: true}, master('5.6.5')], true],
      [[{kind: 'hot', check: false}, {phasedAvailable: false}, master('5.6.5')], false],
      [[{kind: 'phased', checkCommand: 'true'}, {phasedAvailable: true}, master('5.6.5')], true],
    ]
    for (const [args, expected] of cases) assert.equal(wantsBootCheck(...args), expected, JSON.stringify(args))
  })

  describe('the plan, from /proc', () => {
    let dir: string

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'ctl-boot-plan-'))
    })

    afterEach(() => rmSync(dir, {recursive: true, force: true}))

    const reads = (over: Partial<PlanReads> & {env?: Record<string, string>; status?: string}): PlanReads => ({
      ...realPlanReads,
      environment: () => over.env ?? {PWD: join(dir, 'current')},
      euid: over.euid ?? (() => 0),
      readLink: (path) =>
        path.endsWith('/exe') ? '/usr/bin/ruby3.1' : path.endsWith('/cwd') ? join(dir, 'r1') : undefined,
      readText: (path) =>
        path.endsWith('/status')
          ? (over.status ?? 'Uid:\t1000\t1001\t1001\t1001\nGid:\t50\t51\t51\t51\nGroups:\t51 60 \n')
          : `7f00-7f01 r-xp 0 08:01 1 ${join(dir, 'lib', 'puma', 'puma_http11.so')}\n`,
    })

    it('the `current` symlink it was started through, now leading to the new release; its Ruby, user and groups; its Puma lib', () => {
      mkdirSync(join(dir, 'r1'))
      mkdirSync(join(dir, 'r2'))
      symlinkSync(join(dir, 'r2'), join(dir, 'current'))
      mkdirSync(join(dir, 'lib', 'puma'), {recursive: true})
      writeFileSync(join(dir, 'lib', 'puma.rb'), '')
      const plan = planBootCheck(MASTER, reads({})) as BootPlan
      assert.equal(plan.folder, join(dir, 'current'))
      assert.equal(plan.env.PWD, join(dir, 'current'))
      assert.equal(plan.ruby, '/usr/bin/ruby3.1')
      assert.deepEqual(plan.runAs, {kind: 'drop', uid: 1001, gid: 51, groups: [51, 60]})
      assert.equal(plan.pumaLib, join(dir, 'lib'))
      assert.deepEqual(plan.warnings, [])
    })

    it('a PWD that is gone: the cwd; a gem Puma (no puma.rb beside its extension): no lib; ctl not root: as itself', () => {
      const plan = planBootCheck(MASTER, reads({env: {PWD: join(dir, 'gone')}, euid: () => 1001})) as BootPlan
      assert.equal(plan.folder, join(dir, 'r1'))
      assert.equal(plan.pumaLib, undefined)
      assert.deepEqual(plan.runAs, {kind: 'self'})
    })

    it('a master with no supplementary groups: setpriv clears them (the next status line is not a group)', () => {
      const plan = planBootCheck(
        MASTER,
        reads({status: 'Uid:\t0\t7\t7\t7\nGid:\t0\t8\t8\t8\nGroups:\t\nNStgid:\t17886\n'}),
      )
      assert.deepEqual((plan as BootPlan).runAs, {kind: 'drop', uid: 7, gid: 8, groups: []})
    })

    it('a master that runs as root: checked as root, with a warning', () => {
      const plan = planBootCheck(MASTER, reads({status: 'Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n'})) as BootPlan
      assert.deepEqual(plan.runAs, {kind: 'self'})
      assert.ok(plan.warnings.some((w) => /runs as root/.test(w)))
    })

    it('/proc hidden: no plan, and why', () => {
      const plan = planBootCheck(MASTER, {...reads({}), readLink: () => undefined})
      assert.ok('unavailable' in plan)
    })
  })

  describe('running it (a real Ruby and Puma 5.6.5)', function () {
    this.timeout(30_000)
    let dir: string

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'ctl-boot-check-'))
    })

    afterEach(() => rmSync(dir, {recursive: true, force: true}))
    const plan = (): BootPlan => ({
      env: {PATH: process.env.PATH ?? '/usr/bin:/bin', PWD: dir, HOME: dir},
      folder: dir,
      ruby: 'ruby',
      runAs: {kind: 'self'},
      warnings: [],
    })

    it('a good config.ru: ok; one that raises: the exception and its backtrace, nothing bound', async () => {
      writeFileSync(join(dir, 'config.ru'), "run ->(env) { [200, {}, ['ok']] }\n")
      const good = await runBootCheck(plan(), {timeoutMs: 20_000})
      assert.equal(good.ok, true, good.error)
      assert.equal(good.pumaVersion, '5.6.5')
      writeFileSync(join(dir, 'config.ru'), "raise 'boom: simulated boot failure'\n")
      const bad = await runBootCheck(plan(), {timeoutMs: 20_000})
      assert.equal(bad.ok, false)
      assert.equal(bad.error, 'RuntimeError: boom: simulated boot failure')
      assert.ok(
        bad.lines.some((line) => line.includes('config.ru:1')),
        String(bad.lines),
      )
    })

    it('a config file that raises fails too; no config.ru and no config: unavailable, not a failure', async () => {
      mkdirSync(join(dir, 'config'))
      writeFileSync(join(dir, 'config', 'puma.rb'), 'workers 2\nundefined_setting_here 3\n')
      writeFileSync(join(dir, 'config.ru'), "run ->(env) { [200, {}, ['ok']] }\n")
      const bad = await runBootCheck(plan(), {timeoutMs: 20_000})
      assert.equal(bad.ok, false)
      assert.match(bad.error ?? '', /NoMethodError|NameError/)
      rmSync(join(dir, 'config'), {recursive: true})
      rmSync(join(dir, 'config.ru'))
      const none = await runBootCheck(plan(), {timeoutMs: 20_000})
      assert.match(none.unavailable ?? '', /no config file and no config.ru/)
    })

    it('aborted (Ctrl-C): the check is killed at once', async () => {
      writeFileSync(join(dir, 'config.ru'), "sleep 30\nrun ->(env) { [200, {}, ['ok']] }\n")
      const controller = new AbortController()
      setTimeout(() => controller.abort(), 300)
      const started = Date.now()
      const killed = await runBootCheck(plan(), {timeoutMs: 20_000, signal: controller.signal})
      assert.equal(killed.ok, false)
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`)
    })

    it('a check that hangs is killed at its timeout; --check-command: exit status 0 passes, its output otherwise', async () => {
      writeFileSync(join(dir, 'config.ru'), "sleep 30\nrun ->(env) { [200, {}, ['ok']] }\n")
      const hung = await runBootCheck(plan(), {timeoutMs: 1000})
      assert.equal(hung.ok, false)
      assert.match(hung.error ?? '', /did not finish within 1 s/)
      const passed = await runBootCheck(plan(), {timeoutMs: 5000, command: 'test -f config.ru'})
      assert.equal(passed.ok, true)
      const failed = await runBootCheck(plan(), {timeoutMs: 5000, command: 'echo nope >&2; exit 3'})
      assert.deepEqual(
        [failed.ok, failed.error, failed.lines],
        [false, 'echo nope >&2; exit 3 exited with status 3', ['nope']],
      )
    })
  })
})
