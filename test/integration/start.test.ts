import {strict as assert} from 'node:assert'
import {appendFileSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {get} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {freePort, isAlive, killQuietly, readOrEmpty, waitFor, workerPidsOf} from '../helpers/processes.js'
import {OK_APP, RAISING_APP} from '../helpers/puma-cluster.js'
import {type PumaVersion, realPuma} from '../helpers/real-puma.js'
import {jsonOf, runCtl, startCtl} from '../helpers/run-ctl.js'

/** An app folder as `ctl start` finds one: config.ru and config/puma.rb (2 workers, a free port, Rails' tmp/pids). */
function makeApp(port: number, app = OK_APP, workers = 2): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-start-app-'))
  mkdirSync(join(dir, 'config'))
  mkdirSync(join(dir, 'tmp', 'pids'), {recursive: true})
  writeFileSync(join(dir, 'config.ru'), app)
  writeFileSync(
    join(dir, 'config', 'puma.rb'),
    [
      workers > 0 ? `workers ${workers}` : '',
      `bind 'tcp://127.0.0.1:${port}'`,
      "pidfile 'tmp/pids/puma.pid'",
      "state_path 'tmp/pids/puma.state'",
    ].join('\n'),
  )
  return dir
}

async function httpBody(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({host: '127.0.0.1', port, path: '/'}, (response) => {
      let body = ''
      response.on('data', (chunk) => {
        body += chunk
      })
      response.on('end', () => resolve(body))
    }).on('error', reject)
  })
}

/** A process's working folder; undefined when it is gone or not ours to read. */
function cwdOf(pid: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`)
  } catch {
    return undefined
  }
}

/** The processes whose working folder is `dir`: every Puma started there, master or worker. */
function runningIn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && cwdOf(entry) === dir && isAlive(Number(entry)))
    .map(Number)
}

/** The session a process runs in (field 6 of /proc/PID/stat). */
function sessionOf(pid: number): number {
  const stat = readOrEmpty(`/proc/${pid}/stat`)
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3])
}

for (const version of ['5.6.5', '8.0.2'] as const satisfies readonly PumaVersion[]) {
  describe(`ctl start against real Puma ${version}`, function () {
    this.timeout(60_000)
    let puma: string
    const dirs: string[] = []
    const pids = new Set<number>()
    /** Every process ctl started is noted, to be killed after the suite whatever happened. */
    const note = (pid?: number) => {
      if (pid === undefined) return
      pids.add(pid)
      for (const worker of workerPidsOf(pid)) pids.add(worker)
    }

    before(async () => {
      puma = await realPuma(version)
    })

    after(() => {
      for (const dir of dirs) for (const pid of runningIn(dir)) pids.add(pid)
      for (const pid of pids) killQuietly(pid, 'SIGKILL')
      for (const dir of dirs) rmSync(dir, {recursive: true, force: true})
    })

    const app = async (source = OK_APP, workers = 2) => {
      const port = await freePort()
      const dir = makeApp(port, source, workers)
      dirs.push(dir)
      return {dir, port}
    }

    it('start → 0, serving and detached; a second start → 2, nothing started; phased-restart → 0; stop → 0', async () => {
      const {dir, port} = await app()
      const started = await runCtl(['start', '--puma', puma, '--json'], {cwd: dir})
      const report = jsonOf(started)
      note(report.pid)
      assert.equal(started.code, 0, started.stderr + started.stdout)
      assert.equal(report.mode, 'cluster')
      assert.equal(report.workers, 2)
      assert.equal(report.version, version)
      assert.equal(report.command, puma)
      assert.equal(report.log, join(dir, 'log', 'puma.log'))
      assert.ok(isAlive(report.pid), "ctl's exit did not stop Puma")
      assert.equal(sessionOf(report.pid), report.pid, 'Puma runs in its own session')
      assert.equal(await httpBody(port), 'ok')
      assert.equal(readOrEmpty(join(dir, 'tmp', 'pids', 'puma.pid')).trim(), String(report.pid))

      const again = await runCtl(['start', '--puma', puma], {cwd: dir})
      assert.equal(again.code, 2, again.stderr)
      assert.match(again.stderr, new RegExp(`^Error: Puma is already running for .*: master pid ${report.pid} `))
      assert.equal(again.stderr.trim().split('\n').length, 1, 'one line')
      const masters = runningIn(dir).filter((pid) => readOrEmpty(`/proc/${pid}/cmdline`).startsWith('puma '))
      assert.deepEqual(masters, [report.pid], 'one master still')

      const phased = await runCtl(['phased-restart', '--timeout', '30'], {cwd: dir})
      assert.equal(phased.code, 0, phased.stderr)
      note(report.pid)
      const stopped = await runCtl(['stop'], {cwd: dir})
      assert.equal(stopped.code, 0, stopped.stderr)
      assert.ok(!isAlive(report.pid))
    })

    it('single mode: 0 once Puma serves ("Use Ctrl-C to stop" and its server thread)', async () => {
      const {dir, port} = await app(OK_APP, 0)
      const started = await runCtl(['start', '--puma', puma, '--json'], {cwd: dir})
      const report = jsonOf(started)
      note(report.pid)
      assert.equal(started.code, 0, started.stderr + started.stdout)
      assert.equal(report.mode, 'single')
      assert.equal(await httpBody(port), 'ok')
      const stopped = await runCtl(['stop'], {cwd: dir})
      assert.equal(stopped.code, 0, stopped.stderr)
    })

    it('--no-wait: returns once Puma runs, saying that whether the app boots is not known', async () => {
      const {dir, port} = await app()
      const started = await runCtl(['start', '--puma', puma, '--no-wait', '--json'], {cwd: dir})
      const report = jsonOf(started)
      note(report.pid)
      assert.equal(started.code, 0, started.stderr + started.stdout)
      assert.equal(report.outcome, 'started')
      assert.equal(report.waited, false)
      assert.match(report.summary, /not waiting \(--no-wait\): whether the app boots is not known$/)
      await waitFor(() => readOrEmpty(join(dir, 'tmp', 'pids', 'puma.pid')).trim() === String(report.pid), 20_000)
      assert.equal(await httpBody(port), 'ok')
      const stopped = await runCtl(['stop', '--pid', String(report.pid)], {cwd: dir})
      assert.equal(stopped.code, 0, stopped.stderr)
    })

    it('an app that raises while loading: exit 5 with the error, no Puma left running', async () => {
      const {dir} = await app(RAISING_APP)
      const result = await runCtl(['start', '--puma', puma, '--json'], {cwd: dir})
      const {error} = jsonOf(result)
      note(error.pid)
      assert.equal(result.code, 5, result.stdout)
      assert.equal(error.exitCode, 5)
      if (version === '5.6.5') {
        // No preload (workers 2 in the config): the workers load the app, and 5.6 logs no message, only the frame.
        assert.match(error.message, /^Worker \d failed to boot while Puma started; ctl stopped the Puma it started/)
        assert.ok(
          error.details.some((line: string) => line.includes('config.ru:1')),
          error.details.join('\n'),
        )
      } else {
        // 7.0+ preloads with workers 2: the master loads the app, and dies.
        assert.equal(
          error.message,
          'Puma exited before it served: ! Unable to load application: RuntimeError: boom: simulated boot failure',
        )
      }

      await waitFor(
        () => runningIn(dir).length === 0,
        10_000,
        () => `processes left in ${dir}: ${runningIn(dir)}`,
      )
    })

    it('--ndjson: a line per event (started, each worker booted), the --json report last; nothing on stderr', async () => {
      const {dir} = await app()
      const result = await runCtl(['start', '--puma', puma, '--ndjson'], {cwd: dir})
      const lines = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
      const report = lines.at(-1)
      note(report.pid)
      assert.equal(result.code, 0, result.stderr + result.stdout)
      assert.equal(result.stderr, '')
      assert.equal(lines[0].event, 'started')
      const booted = lines.filter((line) => line.event === 'worker-booted')
      assert.deepEqual(booted.map((line) => line.index).sort(), [0, 1])
      assert.ok(booted.every((line) => !Number.isNaN(Date.parse(line.at))))
      assert.equal(report.outcome, 'done')
      assert.equal(report.mode, 'cluster')
      const json = await runCtl(['status', '--json'], {cwd: dir})
      assert.equal(jsonOf(json).pid, report.pid, 'the Puma the stream reported is the one running')
    })

    it('stdout_redirect in the config, options after --: the boots are read where Puma redirects them', async () => {
      const {dir, port} = await app()
      appendFileSync(
        join(dir, 'config', 'puma.rb'),
        "\nstdout_redirect 'log/redirected.log', 'log/redirected.log', true\n",
      )
      const started = await runCtl(['start', '--puma', puma, '--json', '--', '-w', '3'], {cwd: dir})
      const report = jsonOf(started)
      note(report.pid)
      assert.equal(started.code, 0, started.stderr + started.stdout)
      assert.equal(report.workers, 3, 'the command line overrides the config')
      assert.equal(report.command, `${puma} -w 3`)
      assert.deepEqual(report.logs, [join(dir, 'log', 'puma.log'), join(dir, 'log', 'redirected.log')])
      assert.match(readOrEmpty(join(dir, 'log', 'redirected.log')), /booted in/)
      assert.equal(await httpBody(port), 'ok')
      const stopped = await runCtl(['stop'], {cwd: dir})
      assert.equal(stopped.code, 0, stopped.stderr)
    })

    it("--foreground: Puma in ctl's place; SIGTERM to ctl stops Puma, and ctl exits with Puma's status", async () => {
      const {dir, port} = await app()
      const run = startCtl(['start', '--foreground', '--puma', puma], {cwd: dir})
      let output = ''
      run.child.stdout!.on('data', (chunk) => {
        output += chunk
      })
      await waitFor(
        () => (output.match(/booted in/g) ?? []).length >= 2,
        20_000,
        () => `two boot lines on ctl's stdout:\n${output}\n${run.stderrSoFar()}`,
      )
      const pid = Number(/Running Puma in the foreground \(pid (\d+)/.exec(run.stderrSoFar())?.[1])
      note(pid)
      assert.equal(await httpBody(port), 'ok')
      run.child.kill('SIGTERM')
      const result = await run.result
      assert.ok(result.code === 143 || result.code === 0, `exit ${result.code} ${result.signal}: ${result.stderr}`)
      assert.ok(!isAlive(pid), 'Puma stopped')
    })
  })
}
