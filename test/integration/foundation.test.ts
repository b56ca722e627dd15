import {strict as assert} from 'node:assert'
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {binRun} from '../helpers/paths.js'
import {isAlive, killQuietly, readOrEmpty, stoppedAfter, waitFor, workerPidsOf} from '../helpers/processes.js'
import {type PumaCluster, startPumaCluster} from '../helpers/puma-cluster.js'
import {jsonOf, runCtl} from '../helpers/run-ctl.js'

/** ctl against real Puma 5.6.5 clusters: finding, refusing, status, stop/halt and the other signals. */
describe('foundation against real Puma', function () {
  this.timeout(60_000)
  const start = stoppedAfter('after', startPumaCluster)
  const scratch: string[] = []

  const scratchDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-scratch-'))
    scratch.push(dir)
    return dir
  }

  after(() => {
    for (const dir of scratch) rmSync(dir, {recursive: true, force: true})
  })

  describe('status', () => {
    let cluster: PumaCluster

    before(async () => {
      cluster = await start({workers: 2, tag: 'ctl-status'})
    })

    it('finds the master by pidfile and lists its workers (--json)', async () => {
      const result = await runCtl(['status', '--pidfile', cluster.pidfile, '--json'])
      assert.equal(result.code, 0, result.stderr)
      const status = jsonOf(result)
      assert.equal(status.pid, cluster.pid)
      assert.equal(status.version, '5.6.5')
      assert.equal(status.mode, 'cluster')
      assert.equal(status.tag, 'ctl-status')
      assert.equal(status.folder, cluster.dir)
      assert.deepEqual(status.binds, [`tcp://127.0.0.1:${cluster.port}`])
      assert.deepEqual(
        status.workers.map((w: {index: number}) => w.index),
        [0, 1],
      )
      assert.deepEqual(status.workers.map((w: {pid: number}) => w.pid).sort(), cluster.workerPids().sort())
      for (const worker of status.workers) {
        assert.ok(worker.rssBytes > 1_000_000, 'a Ruby worker uses megabytes')
        assert.ok(worker.uptimeSeconds >= 0 && worker.uptimeSeconds < 60)
        assert.equal(typeof worker.cpuSeconds, 'number')
      }
    })

    it('finds the master by state file, and prints a readable table without --json', async () => {
      const result = await runCtl(['status', '--state', cluster.statePath])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, new RegExp(`Puma 5\\.6\\.5 cluster mode, pid ${cluster.pid}`))
      assert.match(result.stdout, /INDEX\s+PID\s+UPTIME\s+RSS\s+CPU/)
      for (const pid of cluster.workerPids()) assert.match(result.stdout, new RegExp(`\\b${pid}\\b`))
      assert.ok(!result.stdout.includes('\u001B['), 'no colour when stdout is not a terminal')
    })

    it('finds the master by scanning the process table from the app folder', async () => {
      const result = await runCtl(['status', '--json'], {cwd: cluster.dir})
      assert.equal(result.code, 0, result.stderr)
      assert.equal(jsonOf(result).pid, cluster.pid)
      assert.match(jsonOf(result).foundBy, /process scan/)
    })

    it('finds the master by --tag', async () => {
      const result = await runCtl(['status', '--tag', 'ctl-status', '--json'], {cwd: scratchDir()})
      assert.equal(result.code, 0, result.stdout + result.stderr)
      assert.equal(jsonOf(result).pid, cluster.pid)
    })

    it('refuses a worker PID, naming the master', async () => {
      const [worker] = cluster.workerPids()
      const result = await runCtl(['status', '--pid', String(worker)])
      assert.equal(result.code, 3)
      assert.match(result.stderr, new RegExp(`pid ${worker} is a Puma worker, not the master`))
      assert.match(result.stderr, new RegExp(`--pid ${cluster.pid}`))
    })
  })

  describe('ambiguity', () => {
    let first: PumaCluster
    let second: PumaCluster

    before(async () => {
      ;[first, second] = await Promise.all([start({workers: 1}), start({workers: 1})])
    })

    it('exits 3 with a table of the masters when the scan finds several', async () => {
      const result = await runCtl(['status'], {cwd: scratchDir()})
      assert.equal(result.code, 3)
      assert.match(result.stderr, /Puma masters are running: choose one/)
      assert.match(result.stderr, /PID\s+VERSION\s+TAG\s+FOLDER\s+BINDS/)
      for (const cluster of [first, second]) {
        assert.match(
          result.stderr,
          new RegExp(`${cluster.pid}\\s+5\\.6\\.5\\s+\\S+\\s+${cluster.dir}\\s+tcp://127\\.0\\.0\\.1:${cluster.port}`),
        )
      }

      assert.match(result.stderr, /--dir/)
    })

    it('lists the candidates in --json too, with exit 3', async () => {
      const result = await runCtl(['status', '--json'], {cwd: scratchDir()})
      assert.equal(result.code, 3)
      const pids = new Set(jsonOf(result).error.candidates.map((c: {pid: number}) => c.pid))
      assert.ok(pids.has(first.pid) && pids.has(second.pid))
    })

    it('--dir picks one', async () => {
      const result = await runCtl(['status', '--dir', second.dir, '--json'], {cwd: scratchDir()})
      assert.equal(result.code, 0, result.stderr)
      assert.equal(jsonOf(result).pid, second.pid)
    })
  })

  describe('refusing to signal the wrong process', () => {
    it('a pidfile holding a sleep process: exit 3, and the sleep lives on', async () => {
      const sleeper = spawn('sleep', ['60'], {stdio: 'ignore'})
      try {
        const dir = scratchDir()
        writeFileSync(join(dir, 'server.pid'), `${sleeper.pid}\n`)
        const refusals = ['stop', 'halt', 'reopen-logs', 'worker-count-up'].map(async (command) => {
          const result = await runCtl([command, '--pidfile', join(dir, 'server.pid')])
          assert.equal(result.code, 3, `${command}: ${result.stderr}`)
          assert.match(result.stderr, new RegExp(`pid ${sleeper.pid} \\(sleep 60\\) is not a Puma master`))
        })
        await Promise.all(refusals)

        assert.ok(isAlive(sleeper.pid!), 'the sleep was not signalled')
      } finally {
        sleeper.kill('SIGKILL')
      }
    })

    for (const [name, content] of [
      ['empty', ''],
      ['garbage', 'abc\n'],
      ['zero', '0\n'],
      ['minus one', '-1'],
      ['one', '1'],
      ['binary', '\u0000\u0001\u00FF'],
    ] as const) {
      it(`a ${name} pidfile: exit 3, one line, and the calling process group is not signalled`, async () => {
        const dir = scratchDir()
        const pidfile = join(dir, 'server.pid')
        writeFileSync(pidfile, content)
        // A shell in a process group of its own, like a deploy script: with pumactl's PID-0 behaviour
        // the stop would kill the shell, its sleeping sibling and ctl itself.
        const script = `sleep 30 & echo $! > sibling.pid; "${process.execPath}" "${binRun}" stop --pidfile server.pid 2>stderr.txt; echo $? > code.txt; kill $(cat sibling.pid)`
        const shell = spawn('sh', ['-c', script], {cwd: dir, detached: true, stdio: 'ignore'})
        const [shellExit] = await once(shell, 'close')
        assert.equal(shellExit, 0, 'the calling shell finished normally, not by a signal')
        assert.equal(readOrEmpty(join(dir, 'code.txt')).trim(), '3')
        const stderr = readOrEmpty(join(dir, 'stderr.txt'))
        assert.match(stderr, /^Error: invalid pidfile server\.pid: /)
        assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace')
      })
    }

    it('refuses --pid 1, 0, -1 and non-numbers with exit 3, for a command that sends nothing', async () => {
      const refusals = ['1', '0', '-1', 'abc', '99999999999', '1.5'].map(async (pid) => {
        const result = await runCtl(['status', `--pid=${pid}`])
        assert.equal(result.code, 3, `--pid=${pid}: ${result.stderr}`)
        assert.equal(result.stderr.split('\n')[0].startsWith('Error: invalid --pid'), true, result.stderr)
      })
      await Promise.all(refusals)
    })

    it('a dead pid: exit 3 "not running"', async () => {
      const child = spawn('true')
      await once(child, 'close')
      const result = await runCtl(['stop', '--pid', String(child.pid)])
      assert.equal(result.code, 3)
      assert.match(result.stderr, new RegExp(`process ${child.pid} is not running`))
    })

    it('a missing pidfile: exit 3; bad flags: exit 2; exit codes hold under --json', async () => {
      const missing = await runCtl(['status', '--pidfile', '/nonexistent/puma.pid', '--json'])
      assert.equal(missing.code, 3)
      assert.equal(jsonOf(missing).error.exitCode, 3)
      assert.match(jsonOf(missing).error.message, /does not exist/)
      const badFlag = await runCtl(['status', '--bogus'])
      assert.equal(badFlag.code, 2)
      assert.equal(badFlag.stderr.split('\n')[0], 'Error: Nonexistent flag: --bogus')
      const exclusive = await runCtl(['status', '--pid', '2', '--pidfile', 'x', '--json'])
      assert.equal(exclusive.code, 2)
    })

    it('not permitted to signal (another user): exit 4 with a hint, and Puma keeps running', async () => {
      const cluster = await start({workers: 1})
      const asNobody = spawn(
        'runuser',
        ['-u', 'nobody', '--', process.execPath, binRun, 'stop', '--pid', String(cluster.pid)],
        {stdio: ['ignore', 'ignore', 'pipe']},
      )
      let stderr = ''
      asNobody.stderr!.on('data', (chunk) => {
        stderr += chunk
      })
      const [code] = await once(asNobody, 'close')
      assert.equal(code, 4, stderr)
      assert.match(stderr, /not permitted to send SIGTERM/)
      assert.match(stderr, /run ctl as the user that runs Puma/)
      assert.ok(isAlive(cluster.pid))
    })

    it('no master anywhere matching: exit 3', async () => {
      const result = await runCtl(['status', '--tag', `no-such-tag-${process.pid}`])
      assert.equal(result.code, 3)
      assert.match(result.stderr, /no Puma master is running tagged no-such-tag/)
    })
  })

  describe('stop, halt, reopen-logs, worker counts', () => {
    it('stop waits until the master has exited, and the pidfile is gone', async () => {
      const cluster = await start({workers: 2})
      const workers = cluster.workerPids()
      const result = await runCtl(['stop', '--pidfile', cluster.pidfile])
      assert.equal(result.code, 0, result.stderr)
      assert.equal(isAlive(cluster.pid), false, 'the master has exited when ctl returns')
      for (const worker of workers) assert.equal(isAlive(worker), false)
      assert.equal(readOrEmpty(cluster.pidfile), '', 'Puma removed its pidfile')
      assert.match(result.stdout, new RegExp(`Puma master ${cluster.pid} stopped in .* \\(sent SIGTERM\\)`))
      assert.match(result.stderr, new RegExp(`Stopping Puma master ${cluster.pid} \\(stop, by signal\\)`))
    })

    it('a pidfile older than the process it names (a reused PID): exit 3, nothing sent', async () => {
      const cluster = await start({workers: 1})
      const anHourAgo = new Date(Date.now() - 3_600_000)
      utimesSync(cluster.pidfile, anHourAgo, anHourAgo)
      const result = await runCtl(['stop', '--pidfile', cluster.pidfile])
      assert.equal(result.code, 3, result.stderr)
      assert.match(result.stderr, /is stale: it was written .*, before pid \d+ started/)
      assert.ok(isAlive(cluster.pid), 'nothing was sent')
    })

    it('status of a stopped server (stale pidfile after SIGKILL): exit 3', async () => {
      const cluster = await start({workers: 1})
      killQuietly(cluster.pid, 'SIGKILL')
      await waitFor(() => !isAlive(cluster.pid), 5000)
      const result = await runCtl(['status', '--pidfile', cluster.pidfile])
      assert.equal(result.code, 3)
      assert.match(result.stderr, /is not running/)
      assert.match(result.stderr, /stale/)
    })

    it('halt kills the master at once and waits for it (--json result)', async () => {
      const cluster = await start({workers: 1})
      const result = await runCtl(['halt', '--state', cluster.statePath, '--json'])
      assert.equal(result.code, 0, result.stderr)
      assert.equal(jsonOf(result).sent, 'SIGQUIT')
      assert.equal(isAlive(cluster.pid), false)
    })

    it('reopen-logs sends HUP when Puma redirects stdout, and Puma keeps running', async () => {
      const cluster = await start({workers: 1})
      const markers = () => (readOrEmpty(cluster.logPath).match(/=== puma startup/g) ?? []).length
      const before = markers()
      const result = await runCtl(['reopen-logs', '--pidfile', cluster.pidfile])
      assert.equal(result.code, 0, result.stderr)
      await waitFor(
        () => markers() > before,
        5000,
        () => 'a reopen marker in the log',
      )
      assert.ok(isAlive(cluster.pid))
    })

    it('reopen-logs refuses (exit 2) when Puma has no stdout_redirect, and Puma keeps running', async () => {
      const cluster = await start({workers: 1, redirect: false})
      const result = await runCtl(['reopen-logs', '--pidfile', cluster.pidfile])
      assert.equal(result.code, 2)
      assert.match(result.stderr, /refusing to send SIGHUP/)
      assert.ok(isAlive(cluster.pid))
    })

    it('worker-count-up and -down change the number of workers', async () => {
      const cluster = await start({workers: 1})
      const up = await runCtl(['worker-count-up', '--pidfile', cluster.pidfile])
      assert.equal(up.code, 0, up.stderr)
      await waitFor(
        () => workerPidsOf(cluster.pid).length === 2,
        10_000,
        () => 'a second worker',
      )
      const down = await runCtl(['worker-count-down', '--pidfile', cluster.pidfile])
      assert.equal(down.code, 0, down.stderr)
      await waitFor(
        () => workerPidsOf(cluster.pid).length === 1,
        15_000,
        () => 'back to one worker',
      )
    })

    it('worker counts are refused in single mode (exit 2), and Puma is not suspended', async () => {
      const single = await start({workers: 0})
      const result = await runCtl(['worker-count-up', '--pidfile', single.pidfile])
      assert.equal(result.code, 2)
      assert.match(result.stderr, /single mode/)
      assert.doesNotMatch(readFileSync(`/proc/${single.pid}/stat`, 'utf8'), /^\d+ \(.*\) T/, 'not stopped (suspended)')
    })
  })
})
