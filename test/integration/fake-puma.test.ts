import {strict as assert} from 'node:assert'
import {existsSync, readFileSync, realpathSync} from 'node:fs'

import {bootLines, type Dialect, type FakePuma, type FakePumaOptions, startFakePuma} from '../helpers/fake-puma.js'
import {titleOf, waitFor, workerPidsOf} from '../helpers/processes.js'

/**
 * The fake Puma is what later tests trust for every version real Puma (5.6.5) cannot show, so its
 * transcripts, titles and files are checked here against docs/puma-facts.md.
 */

const all = (text: string, re: RegExp) => [...text.matchAll(new RegExp(re.source, `${re.flags.replace('g', '')}g`))]
const linesOf = (text: string) => text.split('\n').filter((line) => line !== '')

/** The log after `from`, without the master's prefix on master lines (worker lines keep theirs). */
const masterLines = (fake: FakePuma, text: string) =>
  linesOf(text)
    .filter((line) => line.startsWith(`[${fake.pid}] `))
    .map((line) => line.slice(`[${fake.pid}] `.length))
const gone = (pid: number) => titleOf(pid) === ''

interface Expected {
  bannerWorkers: string
  /** One boot line of this dialect for worker `index` with PID `pid` in phase `phase`. */
  bootLine(index: number, pid: number, phase: number): RegExp
  changingTo: boolean // `+ Changing to DIR` after `Starting phased worker restart` (3.2.0+)
  failure: {in: 'log' | 'stderr'; pattern: RegExp} // one worker boot failure
  masterTitle(fake: FakePuma): RegExp
  stop: {code: null | number; lines: RegExp[]; signal: NodeJS.Signals | null}
  workerTitle(fake: FakePuma, index: number): string
}

const escape = (text: string) => text.replaceAll(/[$()*+.?[\\\]^{|}]/g, String.raw`\$&`)

const EXPECTED: Partial<Record<Dialect, Expected>> = {
  '2.7': {
    masterTitle: () => /^(?:\S*\/)?ruby\S* \S+\/fake-puma\.rb --dialect 2\.7 /, // 2.0-2.7 never set the master's title
    workerTitle: (fake) => `puma: cluster worker: ${fake.pid}`,
    bannerWorkers: '* Process workers: 2',
    bootLine: (_index, pid, phase) => new RegExp(`^- Worker ${pid} booted, phase: ${phase}$`),
    changingTo: false,
    failure: {
      in: 'stderr',
      pattern: /^config\.ru:3:in `block in <main>': boom: simulated boot failure \(RuntimeError\)\n\tfrom /m,
    },
    stop: {code: 0, signal: null, lines: [/^- Gracefully shutting down workers\.\.\.$/, /^- Goodbye!$/]},
  },
  '4.3': {
    masterTitle: (fake) => new RegExp(`^${escape(`puma 4.3.12 (tcp://127.0.0.1:${fake.port}) [${fake.tag}]`)}$`),
    workerTitle: (fake, index) => `puma: cluster worker ${index}: ${fake.pid} [${fake.tag}]`,
    bannerWorkers: '* Process workers: 2',
    bootLine: (index, pid, phase) => new RegExp(`^- Worker ${index} \\(pid: ${pid}\\) booted, phase: ${phase}$`),
    changingTo: true,
    failure: {in: 'log', pattern: /^\[(\d+)\] Early termination of worker$/m}, // 4.2-5.3.1: nothing else, stderr empty
    stop: {code: null, signal: 'SIGTERM', lines: [/^- Gracefully shutting down workers\.\.\.$/]},
  },
  '8.0': {
    masterTitle: (fake) => new RegExp(`^${escape(`puma 8.0.2 (tcp://127.0.0.1:${fake.port}) [${fake.tag}]`)}$`),
    workerTitle: (fake, index) => `puma: cluster worker ${index}: ${fake.pid} [${fake.tag}]`,
    bannerWorkers: '*      Workers: 2',
    bootLine: (index, pid, phase) =>
      new RegExp(`^- Worker ${index} \\(PID: ${pid}\\) booted in \\d+(\\.\\d+)?s, phase: ${phase}$`),
    changingTo: true,
    // message, then the whole backtrace in one log call: continuation lines are indented and unprefixed
    failure: {
      in: 'log',
      pattern:
        /^\[(\d+)\] ! Unable to start worker\n\[\1\] boom: simulated boot failure\n\[\1\] config\.ru:3:in `block in <main>'\n(?: {4}\S.*\n)+\[\1\] Early termination of worker$/m,
    },
    stop: {
      code: null,
      signal: 'SIGTERM',
      lines: [/^=== puma shutdown: .+ ===$/, /^- Goodbye!$/, /^- Gracefully shutting down workers\.\.\.$/],
    },
  },
}

describe('fake Puma', function () {
  this.timeout(30_000)
  const fakes: FakePuma[] = []
  const start = async (options: FakePumaOptions) => {
    const fake = await startFakePuma(options)
    fakes.push(fake)
    return fake
  }

  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((fake) => fake.stop()))
  })

  for (const [dialect, expected] of Object.entries(EXPECTED) as Array<[Dialect, Expected]>) {
    describe(`dialect ${dialect}`, () => {
      it('starts: titles in /proc, banner on stdout, then the log, pidfile and state', async () => {
        const fake = await start({dialect})
        assert.match(fake.title(), expected.masterTitle(fake))
        const workers = fake.workerPids()
        assert.equal(workers.length, 2)
        if (dialect === '2.7')
          assert.deepEqual(
            workers.map((pid) => titleOf(pid)),
            [expected.workerTitle(fake, 0), expected.workerTitle(fake, 1)],
          )
        else
          assert.deepEqual(
            workers.map((pid) => titleOf(pid)),
            [0, 1].map((index) => expected.workerTitle(fake, index)),
          )
        assert.ok(fake.stdout().includes(`[${fake.pid}] ${expected.bannerWorkers}\n`), fake.stdout())
        assert.match(fake.stdout(), new RegExp(`\\[${fake.pid}\\] Use Ctrl-C to stop\n$`))
        assert.match(fake.log(), /^=== puma startup: .+ ===\n/)
        const boots = bootLines(fake.log())
        assert.deepEqual(boots.map((b) => b.pid).sort(), [...workers].sort())
        for (const line of masterLines(fake, fake.log()))
          if (line.startsWith('- Worker'))
            assert.ok(
              boots.some((b) => expected.bootLine(b.index ?? 0, b.pid, 0).test(line)),
              line,
            )
        assert.equal(readFileSync(fake.pidfile, 'utf8'), dialect === '8.0' ? String(fake.pid) : `${fake.pid}\n`) // "PID\n" until 5.0.x
        assert.match(readFileSync(fake.statePath, 'utf8'), new RegExp(`^---\npid: ${fake.pid}\n`))
      })

      it('USR1: a phased restart in this dialect, one worker at a time, all replaced', async () => {
        const fake = await start({dialect})
        const old = fake.workerPids()
        const from = fake.logSize()
        fake.signal('SIGUSR1')
        const text = await fake.waitForLog((t) => bootLines(t).filter((b) => b.phase === 1).length === 2, {from})
        const lines = masterLines(fake, text)
        const expectedHead = [
          '- Starting phased worker restart, phase: 1',
          ...(expected.changingTo ? [`+ Changing to ${realpathSync(fake.dir)}`] : []),
        ]
        assert.deepEqual(lines.slice(0, expectedHead.length), expectedHead)
        const replaced = new Set<number>()
        for (let i = 0; i < 2; i++) {
          const [stopping, term, booted] = lines.slice(expectedHead.length + 3 * i, expectedHead.length + 3 * i + 3)
          const oldPid = Number(stopping.match(/^- Stopping (\d+) for phased upgrade\.\.\.$/)?.[1])
          assert.ok(old.includes(oldPid), stopping)
          assert.equal(term, `- TERM sent to ${oldPid}...`)
          const [boot] = bootLines(booted)
          assert.match(booted, expected.bootLine(boot.index ?? 0, boot.pid, 1))
          if (dialect !== '2.7') assert.equal(boot.index, i) // in index order
          replaced.add(oldPid)
        }

        assert.equal(lines.length, expectedHead.length + 6, text)
        assert.equal(replaced.size, 2)
        const now = fake.workerPids()
        assert.equal(now.length, 2)
        for (const pid of now) assert.ok(!old.includes(pid), `${pid} is a new worker`)
        assert.deepEqual(
          bootLines(text)
            .map((b) => b.pid)
            .sort(),
          [...now].sort(),
        )
      })

      it('boot-fail repeats its failure lines during USR1; back to ok, the same restart completes', async () => {
        const fake = await start({dialect, respawnDelay: 0.1})
        const [, oldWorker1] = fake.workerPids()
        const from = fake.logSize()
        const stderrFrom = fake.stderr().length
        fake.setBehaviour('boot-fail')
        fake.signal('SIGUSR1')
        const failures = () =>
          all(
            expected.failure.in === 'log' ? fake.log().slice(from) : fake.stderr().slice(stderrFrom),
            expected.failure.pattern,
          )
        await fake.waitForLog(() => failures().length >= 3, {from})
        for (const failure of failures())
          if (failure[1]) assert.notEqual(Number(failure[1]), fake.pid, 'worker lines carry the worker PID')
        assert.equal(bootLines(fake.log().slice(from)).length, 0)
        if (expected.failure.in === 'log') assert.equal(fake.stderr().slice(stderrFrom), '')
        assert.ok(fake.workerPids().includes(oldWorker1), 'the other old worker keeps serving')

        fake.setBehaviour('ok')
        const text = await fake.waitForLog((t) => bootLines(t).filter((b) => b.phase === 1).length === 2, {from})
        assert.ok(!text.includes('phase: 2'), 'no new signal was needed')
        assert.ok(!fake.workerPids().includes(oldWorker1))
      })

      it('USR2: hot restart with the same master PID, banner in the log, phase 0 again', async () => {
        const fake = await start({dialect})
        const old = fake.workerPids()
        const title = fake.title()
        fake.signal('SIGUSR1') // phase 1 first, to see the reset
        await fake.waitForLog((t) => bootLines(t).filter((b) => b.phase === 1).length === 2)
        const from = fake.logSize()
        fake.signal('SIGUSR2')
        const text = await fake.waitForLog(
          (t) => t.includes('* Restarting...') && bootLines(t).filter((b) => b.phase === 0).length === 2,
          {from},
        )
        const lines = masterLines(fake, text)
        assert.deepEqual(lines.slice(0, 3), [
          '- Gracefully shutting down workers...',
          '* Restarting...',
          'Puma starting in cluster mode...',
        ])
        assert.ok(lines.includes(expected.bannerWorkers))
        assert.ok(lines.includes(`* Inherited tcp://127.0.0.1:${fake.port}`), text)
        assert.match(text, /\] Use Ctrl-C to stop\n=== puma startup: .+ ===\n/)
        assert.ok(fake.isAlive())
        if (dialect === '2.7')
          assert.match(fake.title(), expected.masterTitle(fake)) // exec'd as Gem.ruby: ruby3.1
        else assert.equal(fake.title(), title)
        assert.equal(readFileSync(fake.pidfile, 'utf8').trim(), String(fake.pid))
        const now = fake.workerPids()
        assert.equal(now.length, 2)
        for (const pid of now) assert.ok(!old.includes(pid))
      })

      it('TERM: graceful stop with this version’s lines and exit status; pidfile removed, workers gone', async () => {
        const fake = await start({dialect})
        const workers = fake.workerPids()
        const from = fake.logSize()
        fake.signal('SIGTERM')
        const status = await fake.exited
        assert.deepEqual(status, {code: expected.stop.code, signal: expected.stop.signal})
        const lines = masterLines(fake, fake.log().slice(from))
        assert.equal(lines.length, expected.stop.lines.length, lines.join('\n'))
        for (const [i, line] of lines.entries()) assert.match(line, expected.stop.lines[i])
        assert.ok(!existsSync(fake.pidfile))
        assert.ok(existsSync(fake.statePath), 'the state file is never deleted')
        for (const pid of workers) assert.ok(gone(pid))
      })
    })
  }

  it('boot-hang: timed-out workers are reported in the 5.6 and 8.0 wordings, then ok completes the restart', async () => {
    for (const [dialect, details] of [
      ['5.6', 'worker failed to boot within 0.5 seconds'],
      ['8.0', 'Worker 0 failed to boot within 0.5 seconds'],
    ] as const) {
      const fake = await start({bootTimeout: 0.5, dialect, respawnDelay: 0.1}) // eslint-disable-line no-await-in-loop
      const from = fake.logSize()
      fake.setBehaviour('boot-hang')
      fake.signal('SIGUSR1')
      const timedOut = new RegExp(`^\\[${fake.pid}\\] ! Terminating timed out worker \\(${details}\\): (\\d+)$`, 'm')
      await fake.waitForLog((t) => all(t, timedOut).length >= 2, {from}) // eslint-disable-line no-await-in-loop
      fake.setBehaviour('ok')
      await fake.waitForLog((t) => bootLines(t).filter((b) => b.phase === 1).length === 2, {from}) // eslint-disable-line no-await-in-loop
    }
  })

  it('preload: USR1 falls back to a hot restart; master-crash-on-restart kills the master and leaves the pidfile', async () => {
    const fake = await start({dialect: '6.0', preload: true})
    assert.ok(fake.stdout().includes('*     Restarts: (✔) hot (✖) phased\n'))
    const workers = fake.workerPids()
    const from = fake.logSize()
    fake.setBehaviour('master-crash-on-restart')
    fake.signal('SIGUSR1')
    assert.deepEqual(await fake.exited, {code: 1, signal: null})
    assert.deepEqual(linesOf(fake.log().slice(from)), [
      `[${fake.pid}] * phased-restart called but not available, restarting normally.`,
      `[${fake.pid}] - Gracefully shutting down workers...`,
      `[${fake.pid}] * Restarting...`,
      `[${fake.pid}] ! Unable to load application: RuntimeError: boom: simulated boot failure`,
    ])
    assert.match(fake.stderr(), /^config\.ru:3:in `block in <main>': boom: simulated boot failure \(RuntimeError\)$/m)
    assert.equal(readFileSync(fake.pidfile, 'utf8'), String(fake.pid), 'stale pidfile')
    for (const pid of workers) assert.ok(gone(pid))
  })

  it('single mode: no prefix, no workers, USR1 becomes a hot restart', async () => {
    const fake = await start({dialect: '5.2', single: true})
    assert.equal(fake.title(), `puma 5.2.2 (tcp://127.0.0.1:${fake.port}) [${fake.tag}]`)
    assert.match(fake.stdout(), /^Puma starting in single mode\.\.\.\n[^]*\n\* {10}PID: \d+\n[^]*Use Ctrl-C to stop\n$/)
    assert.deepEqual(workerPidsOf(fake.pid), [])
    const from = fake.logSize()
    fake.signal('SIGUSR1')
    const text = await fake.waitForLog(/Use Ctrl-C to stop\n=== puma startup/, {from})
    assert.deepEqual(linesOf(text).slice(0, 3), [
      '* phased-restart called but not available, restarting normally.',
      '* Restarting...',
      'Puma starting in single mode...',
    ])
    assert.ok(fake.isAlive())
  })

  it('QUIT: the master dies at once (pidfile removed by at_exit); workers notice and die', async () => {
    const fake = await start({dialect: '5.6'})
    const workers = fake.workerPids()
    const from = fake.logSize()
    fake.signal('SIGQUIT')
    assert.deepEqual(await fake.exited, {code: null, signal: 'SIGQUIT'})
    assert.ok(!existsSync(fake.pidfile))
    await waitFor(
      () => workers.every((pid) => gone(pid)),
      10_000,
      () => 'the workers to die',
    )
    const text = fake.log().slice(from)
    assert.deepEqual(
      all(text, /^\[(\d+)\] ! Detected parent died, dying$/m)
        .map((m) => Number(m[1]))
        .sort(),
      [...workers].sort(),
      text,
    )
    for (const pid of workers) assert.ok(gone(pid))
  })

  it('HUP reopens the log (one startup line per process); TTIN and TTOU add and cull a worker', async () => {
    const fake = await start({dialect: '5.6'})
    let from = fake.logSize()
    fake.signal('SIGHUP')
    await fake.waitForLog((t) => all(t, /^=== puma startup: .+ ===$/m).length === 3, {from})
    assert.ok(fake.isAlive())
    from = fake.logSize()
    fake.signal('SIGTTIN')
    const [added] = bootLines(await fake.waitForLog((t) => bootLines(t).length === 1, {from}))
    assert.equal(added.index, 2)
    assert.equal(fake.workerPids().length, 3)
    from = fake.logSize()
    fake.signal('SIGTTOU')
    await fake.waitForLog(new RegExp(`^\\[${fake.pid}\\] - Worker 2 \\(PID: ${added.pid}\\) terminating$`, 'm'), {from})
    await waitFor(
      () => gone(added.pid),
      10_000,
      () => 'the culled worker to exit',
    )
    assert.equal(fake.workerPids().length, 2)
  })

  it('pidfile and state file formats follow the version', async () => {
    const control = {controlToken: 's3cret', controlUrl: 'unix:///nowhere/ctl.sock'}
    for (const dialect of ['2.16', '4.3', '5.2', '5.6', '8.0'] as const) {
      const fake = await start({dialect, wait: 'banner', workers: 1, ...control}) // eslint-disable-line no-await-in-loop
      const state = readFileSync(fake.statePath, 'utf8')
      assert.equal(
        readFileSync(fake.pidfile, 'utf8'),
        ['2.16', '4.3'].includes(dialect) ? `${fake.pid}\n` : String(fake.pid),
      )
      switch (dialect) {
        case '2.16': {
          assert.match(state, new RegExp(`^---\npid: ${fake.pid}\nconfig: !ruby/object:Puma::Configuration\n`))
          assert.match(state, /^ {4}:control_url: unix:\/\/\/nowhere\/ctl\.sock$/m)
          assert.match(state, /^ {4}:control_auth_token: s3cret$/m)
          break
        }

        case '4.3': {
          assert.equal(
            state,
            `---\npid: ${fake.pid}\ncontrol_url: unix:///nowhere/ctl.sock\ncontrol_auth_token: s3cret\n`,
          )
          break
        }

        case '5.2': {
          assert.match(
            state,
            new RegExp(
              `^---\npid: ${fake.pid}\ncontrol_url: unix:///nowhere/ctl.sock\ncontrol_auth_token: s3cret\nrunning_from: "?${realpathSync(fake.dir)}"?\n$`,
            ),
          )
          break
        }

        default: {
          assert.equal(
            state,
            `---\npid: ${fake.pid}\ncontrol_url: unix:///nowhere/ctl.sock\ncontrol_auth_token: s3cret\nrunning_from: "${realpathSync(fake.dir)}"\n`,
          )
        }
      }

      if (['5.6', '8.0'].includes(dialect))
        assert.match(fake.stdout(), /Use Ctrl-C to stop\n.*! WARNING: Detected running cluster mode with 1 worker\.\n/)
    }
  })

  it('stop() kills master and workers by PID, removes the folder, and can be called twice', async () => {
    const fake = await start({dialect: '4.3', drainSeconds: 0.2})
    const workers = fake.workerPids()
    await Promise.all([fake.stop(), fake.stop()])
    await fake.stop()
    assert.ok(!existsSync(fake.dir))
    assert.ok(!fake.isAlive())
    for (const pid of [fake.pid, ...workers]) assert.ok(gone(pid), `${pid} is gone`)
  })
})
