import {strict as assert} from 'node:assert'
import {spawn} from 'node:child_process'
import {mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {binRun} from '../helpers/paths.js'
import {isAlive, killQuietly, readOrEmpty, stoppedAfter, waitFor} from '../helpers/processes.js'
import {OK_APP, type PumaCluster, RAISING_APP, startPumaCluster, statsOf} from '../helpers/puma-cluster.js'
import {jsonOf, runCtl, startCtl} from '../helpers/run-ctl.js'

const SLOW_BOOT_APP = "sleep 30\nrun ->(env) { [200, {}, ['slow']] }\n"

const readLog = (cluster: PumaCluster) => readOrEmpty(cluster.logPath)

/** An app whose workers take a while to boot, so that the test can act mid-restart. */
function slowThenOk(seconds: number): string {
  return `sleep ${seconds}\nrun ->(env) { [200, {}, ['ok']] }\n`
}

const ESC = '\u001B'
/** A foreground colour code; built from a string, as a regex literal may hold no control character. */
const FOREGROUND = new RegExp(String.raw`${ESC}\[3\dm`)

describe('restarts', () => {
  /** Real Puma 5.6.5: restarts that ctl waits for until they really finished, or says why not. */
  describe('restarts against real Puma', function () {
    this.timeout(90_000)
    const start = stoppedAfter('afterEach', startPumaCluster)

    it('phased restart: exit 0 once every worker is replaced; the log is found without --log; /stats agrees', async () => {
      const cluster = await start({workers: 3, control: 'tcp'})
      const before = cluster.workerPids()
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json'])
      assert.equal(result.code, 0, result.stderr + result.stdout)
      const report = jsonOf(result)
      assert.equal(report.outcome, 'done')
      assert.equal(report.phase, 1)
      assert.deepEqual(report.logs, [cluster.logPath])
      assert.deepEqual(report.workers.map((w: {index: number}) => w.index).sort(), [0, 1, 2])
      for (const worker of report.workers) {
        assert.ok(before.includes(worker.oldPid), 'old pid was a worker before')
        assert.ok(!before.includes(worker.newPid), 'new pid is new')
        assert.equal(typeof worker.bootSeconds, 'number')
      }

      const after = cluster.workerPids()
      assert.equal(after.filter((pid) => before.includes(pid)).length, 0, 'every worker PID changed')
      const now = await statsOf(cluster)
      assert.equal(now.phase, 1)
      assert.equal(now.old_workers, 0)
      assert.equal(now.booted_workers, 3)
    })

    it('phased restart without --json prints one plain line per event, no escapes, and the summary on stdout', async () => {
      const cluster = await start({workers: 2})
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /^Phased restart finished in \d+\.\d\d s: phase 1, 2\/2 workers booted\n$/)
      assert.match(
        result.stderr,
        new RegExp(`Sent SIGUSR1 to Puma master ${cluster.pid}; following ${cluster.logPath}`),
      )
      assert.match(result.stderr, /worker 0 booted in phase 1 \(pid \d+, was \d+/)
      assert.match(result.stderr, /worker 1 booted in phase 1/)
      assert.ok(!(result.stderr + result.stdout).includes(`${ESC}[`), 'an escape code')
    })

    it('a config.ru that raises: exit 5 within seconds, quoting the error, saying what still serves', async () => {
      const cluster = await start({workers: 2})
      cluster.setApp(RAISING_APP)
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile])
      assert.equal(result.code, 5, result.stderr)
      assert.ok(result.durationMs < 10_000, `took ${result.durationMs} ms`)
      assert.match(result.stderr, /worker 0 .*failed to boot/i)
      assert.match(result.stderr, /! Unable to start worker/)
      assert.match(result.stderr, /config\.ru:1/, "the worker's first backtrace line")
      assert.match(result.stderr, /1 of 2 workers still runs? (phase 0|the old phase); Puma keeps retrying worker 0/)
      assert.ok(isAlive(cluster.pid), 'the master still runs')
    })

    it('the same failure under --json: exit 5 and the error lines in the object', async () => {
      const cluster = await start({workers: 2})
      cluster.setApp(RAISING_APP)
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json'])
      assert.equal(result.code, 5)
      const {error} = jsonOf(result)
      assert.equal(error.exitCode, 5)
      assert.equal(error.outcome, 'worker-failed')
      assert.ok(error.errorLines.some((line: string) => line.includes('! Unable to start worker')))
    })

    // Regression: the broken release's crash loop forks workers right up to the rollback's USR1, and one of
    // them (old code) can log "! Unable to start worker" just after "Starting phased worker restart".
    it('rollback right after a broken release: the next phased restart exits 0 despite the stale crash loop', async () => {
      const cluster = await start({workers: 2})
      const brokenThenRollback = async (attempt: number) => {
        cluster.setApp(RAISING_APP)
        const broken = await runCtl(['phased-restart', '--pidfile', cluster.pidfile])
        assert.equal(broken.code, 5, `attempt ${attempt}, broken release: ${broken.stderr}`)
        cluster.setApp(OK_APP) // at once: worker 0 is still crash-looping on the broken code
        const rollback = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json'])
        assert.equal(rollback.code, 0, `attempt ${attempt}, rollback: ${rollback.stderr + rollback.stdout}`)
        assert.equal(jsonOf(rollback).outcome, 'done')
      }

      // eslint-disable-next-line no-await-in-loop -- each attempt restarts the same cluster, one after another
      for (const attempt of [1, 2, 3]) await brokenThenRollback(attempt)

      assert.ok(isAlive(cluster.pid), 'the master still runs')
    })

    it('a boot that hangs longer than --timeout 3: exit 6 in about 3 s, listing the workers still on the old phase', async () => {
      const cluster = await start({workers: 2})
      cluster.setApp(SLOW_BOOT_APP)
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '3'])
      assert.equal(result.code, 6, result.stderr)
      assert.ok(result.durationMs > 2900 && result.durationMs < 5000, `took ${result.durationMs} ms`)
      assert.match(result.stderr, /Timed out after 3 s/)
      assert.match(result.stderr, /worker 1/)
    })

    it('hot restart: exit 0, same master pid, every worker new', async () => {
      const cluster = await start({workers: 2})
      const before = cluster.workerPids()
      const result = await runCtl(['restart', '--pidfile', cluster.pidfile, '--json'])
      assert.equal(result.code, 0, result.stderr)
      const report = jsonOf(result)
      assert.equal(report.outcome, 'done')
      assert.equal(report.restart, 'hot')
      assert.equal(report.phase, 0)
      assert.ok(isAlive(cluster.pid))
      const after = cluster.workerPids()
      assert.equal(after.length, 2)
      assert.equal(after.filter((pid) => before.includes(pid)).length, 0)
    })

    it('hot restart of a broken release (non-preload cluster): exit 5, no worker serves', async () => {
      const cluster = await start({workers: 2})
      cluster.setApp(RAISING_APP)
      const result = await runCtl(['restart', '--pidfile', cluster.pidfile, '--no-check'])
      assert.equal(result.code, 5, result.stderr)
      assert.match(result.stderr, /no worker serves/)
    })

    it('hot restart of a broken release in preload mode kills the master: exit 7', async () => {
      const cluster = await start({workers: 2, extraConfig: 'preload_app!'})
      cluster.setApp(RAISING_APP)
      const result = await runCtl(['restart', '--pidfile', cluster.pidfile, '--no-check'])
      assert.equal(result.code, 7, result.stderr)
      assert.match(result.stderr, /Unable to load application/)
    })

    it('phased restart on a preload cluster: warns, then waits for the hot restart Puma does instead', async () => {
      const cluster = await start({workers: 2, extraConfig: 'preload_app!'})
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json'])
      assert.equal(result.code, 0, result.stderr)
      const report = jsonOf(result)
      assert.equal(report.restart, 'hot')
      assert.ok(report.warnings.some((w: string) => /hot restart/.test(w)))
    })

    it('the master killed with SIGKILL mid-restart: exit 7', async () => {
      const cluster = await start({workers: 2})
      cluster.setApp(SLOW_BOOT_APP)
      const run = startCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '30'])
      await waitFor(() => /Starting phased worker restart/.test(readLog(cluster)), 10_000)
      killQuietly(cluster.pid, 'SIGKILL')
      const result = await run.result
      assert.equal(result.code, 7, result.stderr)
      assert.match(result.stderr, /master .*(exited|died)/i)
    })

    it('the log renamed and reopened (logrotate create + SIGHUP) mid-restart: still exit 0', async () => {
      const cluster = await start({workers: 2})
      cluster.setApp(slowThenOk(1.5))
      const run = startCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '30'])
      // rotate once ctl has read the phase line: a line rotated away unread is lost to any follower
      await waitFor(() => /started the phased restart: phase 1/.test(run.stderrSoFar()), 10_000)
      renameSync(cluster.logPath, `${cluster.logPath}.1`)
      process.kill(cluster.pid, 'SIGHUP') // Puma reopens log/puma.log, a new file
      const result = await run.result
      assert.equal(result.code, 0, result.stderr + result.stdout)
      assert.match(result.stdout, /Phased restart finished in .*: phase 1, 2\/2 workers booted/)
    })

    it('copytruncate mid-restart: still exit 0', async () => {
      const cluster = await start({workers: 2})
      cluster.setApp(slowThenOk(1.5))
      const run = startCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '30'])
      // truncate once ctl has read the phase line: copytruncate loses lines no one has read yet
      await waitFor(() => /started the phased restart: phase 1/.test(run.stderrSoFar()), 10_000)
      truncateSync(cluster.logPath, 0)
      const result = await run.result
      assert.equal(result.code, 0, result.stderr + result.stdout)
      assert.match(result.stdout, /Phased restart finished in .*: phase 1, 2\/2 workers booted/)
    })

    it('Ctrl-C while waiting: exit 130, says where the restart stood, and the cluster is untouched', async () => {
      const cluster = await start({workers: 2})
      cluster.setApp(SLOW_BOOT_APP)
      const run = startCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '60'])
      await waitFor(() => /started the phased restart: phase 1/.test(run.stderrSoFar()), 10_000)
      const workersBefore = cluster.workerPids()
      run.child.kill('SIGINT')
      const result = await run.result
      assert.equal(result.code, 130, result.stderr)
      assert.match(
        result.stderr,
        /interrupted while waiting: phase 1: 0\/2 workers booted; nothing more was sent to Puma/,
      )
      assert.ok(isAlive(cluster.pid))
      assert.doesNotMatch(
        readLog(cluster).split('Starting phased worker restart')[1],
        /Gracefully shutting down|Restarting\.\.\.|Goodbye/,
        'no stop or restart was sent',
      )
      assert.ok(
        cluster.workerPids().some((pid) => workersBefore.includes(pid)),
        'old workers still serve',
      )
    })

    it('on a terminal: a live spinner with progress, colour, and none with NO_COLOR', async () => {
      const cluster = await start({workers: 2})
      cluster.setApp(slowThenOk(1))
      const inTerminal = (env: string, size = 'cols 100 rows 30') =>
        new Promise<string>((resolve) => {
          // script(1) gives ctl a pseudo-terminal, as a person at a terminal would
          const command = `stty ${size}; ${env} "${process.execPath}" "${binRun}" phased-restart --pidfile "${cluster.pidfile}"`
          const child = spawn('script', ['-qfec', command, '/dev/null'], {
            stdio: ['ignore', 'pipe', 'pipe'],
            detached: true,
          })
          let output = ''
          child.stdout.on('data', (chunk) => {
            output = (output + chunk).slice(-100_000)
          })
          // A spinner that never stops must fail the test, not outlive it: end script and ctl (its process group).
          const guard = setTimeout(() => {
            if (child.pid! > 1) process.kill(-child.pid!, 'SIGKILL') // its own process group (detached)
          }, 20_000)
          child.on('close', () => {
            clearTimeout(guard)
            resolve(output)
          })
        })
      const coloured = await inTerminal('')
      assert.match(coloured, /phase 1: 0\/2 workers booted/, 'the spinner shows progress')
      assert.match(coloured, FOREGROUND, 'colour')
      assert.match(coloured, /Phased restart finished in .*: phase 1, 2\/2 workers booted/)
      const plain = await inTerminal('NO_COLOR=1')
      assert.match(plain, /phase 2: [01]\/2 workers booted/)
      assert.doesNotMatch(plain, FOREGROUND, 'no colour with NO_COLOR')
      // a terminal without a size gets plain lines (a spinner there would redraw without end)
      const sizeless = await inTerminal('', 'cols 0 rows 0')
      assert.ok(sizeless.length < 10_000, `${sizeless.length} bytes`)
      assert.match(sizeless, /worker 1 booted in phase 3/)
      assert.match(sizeless, /Phased restart finished in .*: phase 3, 2\/2 workers booted/)
    })

    it('single mode through /stats alone: three hot restarts in a row each exit 0 in seconds (started_at has one-second resolution; the kernel tells the re-exec)', async () => {
      const cluster = await start({workers: 0, control: 'tcp', redirect: false})
      for (let round = 0; round < 3; round++) {
        // eslint-disable-next-line no-await-in-loop -- one restart after the other, each right after the last
        const result = await runCtl(['restart', '--state', cluster.statePath, '--json', '--timeout', '20'])
        assert.equal(result.code, 0, result.stderr + result.stdout)
        assert.equal(jsonOf(result).restart, 'hot')
        assert.ok(result.durationMs < 10_000, `round ${round}: ${result.durationMs} ms`)
      }
    })

    it('--no-wait sends and returns at once (pumactl behaviour)', async () => {
      const cluster = await start({workers: 2})
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--no-wait'])
      assert.equal(result.code, 0, result.stderr)
      // What was sent, and how to follow it later (`ctl wait`'s resume token).
      const [sent, follow, ...rest] = result.stdout.split('\n')
      assert.equal(
        sent,
        `Sent SIGUSR1 to Puma master ${cluster.pid}; not waiting (--no-wait): whether the restart works is not known`,
      )
      assert.match(follow, /^To follow it to its verdict: ctl wait --since v1\.[\w-]+$/)
      assert.deepEqual(rest, [''])
      assert.equal(result.stderr, '', 'one true thing, said once')
      const json = await runCtl(['restart', '--pidfile', cluster.pidfile, '--no-wait', '--json'])
      assert.deepEqual(Object.keys(jsonOf(json)).sort(), [
        'check',
        'exitCode',
        'logs',
        'outcome',
        'pid',
        'restart',
        'resume',
        'sent',
        'summary',
        'via',
        'waited',
        'warnings',
      ])
      assert.equal(jsonOf(json).outcome, 'sent')
      await waitFor(() => /booted in [\d.]+s, phase: 1/.test(readLog(cluster)), 10_000)
    })

    it('no log to follow: exit 2 with a hint, and nothing is sent', async () => {
      const cluster = await start({workers: 1, redirect: false})
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile])
      assert.equal(result.code, 2)
      assert.match(result.stderr, /cannot wait for the restart/)
      assert.match(result.stderr, /--log PATH/)
      assert.match(result.stderr, /--no-wait/)
    })
  })

  /** Servers under systemd log to the journal: ctl follows `journalctl -f -u UNIT` (a stand-in here). */
  describe('restarts followed through the journal', function () {
    this.timeout(60_000)
    let cluster: PumaCluster
    let bin: string

    beforeEach(async () => {
      cluster = await startPumaCluster({workers: 2})
      bin = mkdtempSync(join(tmpdir(), 'ctl-journalctl-'))
      // journalctl -f for this test: the real Puma's log, from now on; it records its PID to check the clean-up.
      writeFileSync(
        join(bin, 'journalctl'),
        `#!/bin/sh\necho $$ > "${bin}/pid"\necho "$@" > "${bin}/args"\nexec tail -n 0 -F "${cluster.logPath}"\n`,
        {mode: 0o755},
      )
    })

    afterEach(async () => {
      await cluster.stop()
      rmSync(bin, {recursive: true, force: true})
    })

    const env = () => ({PATH: `${bin}:${process.env.PATH}`})

    it('--journal UNIT: exit 0 once every worker booted, and journalctl is gone afterwards', async () => {
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--journal', 'puma.service'], {
        env: env(),
      })
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, /following journal of puma\.service/)
      assert.match(readOrEmpty(join(bin, 'args')), /-f -o cat --no-pager --since @[\d.]+ -u puma\.service/)
      assert.equal(isAlive(Number(readOrEmpty(join(bin, 'pid')))), false, 'journalctl was stopped')
    })

    it('--journal UNIT with a raising config.ru: exit 5 with the error lines', async () => {
      cluster.setApp(RAISING_APP)
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--journal', 'puma.service'], {
        env: env(),
      })
      assert.equal(result.code, 5, result.stderr)
      assert.match(result.stderr, /! Unable to start worker/)
      assert.equal(isAlive(Number(readOrEmpty(join(bin, 'pid')))), false, 'journalctl was stopped')
    })
  })
})
