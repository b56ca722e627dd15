import {strict as assert} from 'node:assert'
import {get} from 'node:http'

import {isAlive, isWorkerOf, killQuietly, readOrEmpty, stoppedAfter, titleOf, waitFor} from '../helpers/processes.js'
import {OK_APP, type PumaCluster, RAISING_APP, startPumaCluster, statsOf} from '../helpers/puma-cluster.js'
import {type CtlResult, jsonOf, runCtl, startCtl} from '../helpers/run-ctl.js'

/**
 * Issue 10 as an operator meets it, on real Puma 5.6.5: a worker missing at the signal, a respawned
 * worker before a broken release, a log that ends mid-line, a log_formatter, a rollback after a hung
 * boot. Each test takes the truth from Puma itself (its log, its /stats, the process table) at the
 * moment ctl exits, and asks ctl's exit code and --json to agree with it.
 */

interface Boot {
  index: number
  phase: number
  pid: number
}

/** The master's `- Worker I (PID: P) booted in Xs, phase: N` lines, wherever its `[pid] ` stands in the line. */
function bootsIn(log: string, masterPid: number): Boot[] {
  const pattern = new RegExp(
    String.raw`\[${masterPid}\] - Worker (\d+) \(PID: (\d+)\) booted in [\d.]+s, phase: (\d+)`,
    'g',
  )
  return [...log.matchAll(pattern)].map((m) => ({index: Number(m[1]), pid: Number(m[2]), phase: Number(m[3])}))
}

const readLog = (cluster: PumaCluster) => readOrEmpty(cluster.logPath)

/** Index by PID, from the workers' process titles (`puma: cluster worker I: MASTER`). */
function indexesByPid(cluster: PumaCluster): Map<number, number> {
  return new Map(cluster.workerPids().map((pid) => [pid, Number(isWorkerOf(cluster.pid, titleOf(pid))?.[1])] as const))
}

/** /proc/PID/stat's state letter: 'T' stopped, 'Z' zombie, '' gone. */
function stateOf(pid: number): string {
  return readOrEmpty(`/proc/${pid}/stat`).match(/^\d+ \(.*\) (\S)/)?.[1] ?? ''
}

/** SIGUSR1 (10) sent to the process and not yet handled: bit 9 of ShdPnd, the process-wide pending set. */
function usr1Pending(pid: number): boolean {
  const pending = readOrEmpty(`/proc/${pid}/status`).match(/^ShdPnd:\s*([\da-f]+)$/m)?.[1]
  return pending !== undefined && BigInt(`0x${pending}`).toString(2).at(-10) === '1'
}

/** A client connected to 127.0.0.1:PORT (the handshake done by the kernel, whether or not the server accepted it). */
function connectedTo(port: number): boolean {
  const remoteHex = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
  return readOrEmpty('/proc/net/tcp')
    .split('\n')
    .some((row) => {
      const fields = row.trim().split(/\s+/) // sl, local, remote, state, ...
      return fields[2] === remoteHex && fields[3] === '01' // ESTABLISHED
    })
}

/** One request to the app, as any HTTP client would send it. */
async function visit(cluster: PumaCluster): Promise<void> {
  return new Promise((resolve, reject) => {
    get({host: '127.0.0.1', port: cluster.port, path: '/'}, (response) => {
      response.resume()
      response.on('end', resolve)
    }).on('error', reject)
  })
}

/** What ctl did, for an assertion's message. */
const told = (result: CtlResult) => `exit ${result.code} in ${result.durationMs} ms\n${result.stdout}\n${result.stderr}`

/** An app that prints text without a newline whenever it answers a request. */
const PARTIAL_LINE = 'no newline here'
const PRINTING_APP = `run ->(env) { $stdout.print '${PARTIAL_LINE}'; $stdout.flush; [200, {}, ['ok']] }\n`

const TIMESTAMP = "Time.now.utc.strftime('%Y-%m-%dT%H:%M:%S.%LZ')"

/** The new release boots in 0.5 s: a worker still to be replaced when ctl exits is caught in the act. */
const SLOW_GOOD_APP = `sleep 0.5\n${OK_APP}`

/**
 * Three workers; the master paused (SIGSTOP) and worker 2 killed meanwhile, so that it is a zombie no
 * title names when ctl looks. `resume` says when the master may go on: by default once ctl's USR1 is
 * pending at it (Puma then starts the new phase before it reaps worker 2).
 */
async function missingWorkerRestart(cluster: PumaCluster, options: {args?: string[]; resume?: () => boolean} = {}) {
  const before = cluster.workerPids()
  assert.equal(before.length, 3)
  killQuietly(cluster.pid, 'SIGSTOP')
  await waitFor(
    () => stateOf(cluster.pid) === 'T',
    5000,
    () => 'the master stopped',
  )
  killQuietly(before[2], 'SIGKILL')
  await waitFor(
    () => stateOf(before[2]) === 'Z',
    5000,
    () => 'worker 2 a zombie',
  )
  const run = startCtl([
    'phased-restart',
    ...(options.args ?? ['--pidfile', cluster.pidfile]),
    '--json',
    '--timeout',
    '20',
  ])
  const resume = options.resume ?? (() => usr1Pending(cluster.pid))
  await waitFor(resume, 10_000, () => `the moment to resume the master\n${run.stderrSoFar()}`)
  killQuietly(cluster.pid, 'SIGCONT')
  const result = await run.result
  // Puma's truth at the moment ctl exits, before Puma moves on
  return {before, result, log: readLog(cluster), alive: cluster.workerPids()}
}

describe('operator scenarios against real Puma 5.6.5 (issue 10)', function () {
  this.timeout(90_000)
  const start = stoppedAfter('afterEach', startPumaCluster)

  describe('a worker missing at the signal', () => {
    it('a good release: exit 0 only once every worker index 0, 1, 2 runs the new phase', async () => {
      const cluster = await start({workers: 3})
      cluster.setApp(SLOW_GOOD_APP)
      const {alive, before, log, result} = await missingWorkerRestart(cluster)
      assert.equal(result.code, 0, told(result))
      const newBoots = bootsIn(log, cluster.pid).filter((boot) => boot.phase === 1)
      assert.deepEqual(
        [...new Set(newBoots.map((boot) => boot.index))].sort(),
        [0, 1, 2],
        `phase 1 boots in Puma's log when ctl exited:\n${log}`,
      )
      assert.deepEqual(
        alive.filter((pid) => before.includes(pid)),
        [],
        'no worker from before the signal alive when ctl exited',
      )
      assert.equal(alive.length, 3, 'three workers alive')
      for (const pid of alive)
        assert.ok(
          newBoots.some((boot) => boot.pid === pid),
          `worker ${pid} booted in phase 1`,
        )
      const report = jsonOf(result)
      assert.equal(report.outcome, 'done')
      assert.deepEqual(report.workers.map((w: {index: number}) => w.index).sort(), [0, 1, 2])
    })

    // The master resumes while ctl waits for /stats, after ctl counted the workers and before its signal:
    // Puma respawns worker 2 in phase 0, then replaces workers 0, 1 and that worker 2 in this order.
    it('a good release, the master resuming before the signal (ctl asking /stats): exit 0 only once /stats shows phase 1 everywhere', async () => {
      const cluster = await start({workers: 3, control: 'tcp'})
      cluster.setApp(SLOW_GOOD_APP)
      const {result} = await missingWorkerRestart(cluster, {
        args: ['--state', cluster.statePath],
        resume: () => connectedTo(cluster.controlPort!),
      })
      const now = await statsOf(cluster)
      assert.equal(result.code, 0, told(result))
      assert.ok(
        /Worker 2 \(PID: \d+\) booted in [\d.]+s, phase: 0/.test(readLog(cluster)),
        'the scenario: worker 2 respawned in phase 0',
      )
      assert.equal(now.phase, 1)
      assert.equal(now.workers, 3)
      assert.equal(now.booted_workers, 3, JSON.stringify(now))
      assert.equal(now.old_workers, 0, JSON.stringify(now))
      assert.deepEqual(
        jsonOf(result)
          .workers.map((w: {index: number}) => w.index)
          .sort(),
        [0, 1, 2],
      )
    })

    it('a broken release: exit 5, Puma retrying worker 2, and the cluster of 3 counted', async () => {
      const cluster = await start({workers: 3})
      cluster.setApp(RAISING_APP)
      const {before, result} = await missingWorkerRestart(cluster)
      assert.equal(result.code, 5, told(result))
      const {error} = jsonOf(result)
      assert.equal(error.outcome, 'worker-failed')
      // Puma never stopped workers 0 and 1 (it waits for worker 2 to boot first): they serve the old phase.
      assert.ok(isAlive(before[0]) && isAlive(before[1]), 'old workers 0 and 1 still serve')
      // The expected set is the cluster: nothing booted, so all three indexes are pending.
      assert.deepEqual(error.pending.map((p: {index: number}) => p.index).sort(), [0, 1, 2], told(result))
      assert.equal(error.failure.index, 2, 'Puma retries worker 2')
      assert.match(
        error.serving.sentence,
        /\b2 of 3 workers still run (phase 0|the old phase); Puma keeps retrying worker 2\b/,
      )
    })
  })

  it('a respawned worker before a broken release: ctl names the worker Puma really retries', async () => {
    const cluster = await start({workers: 3})
    const [worker0] = cluster.workerPids()
    killQuietly(worker0, 'SIGKILL')
    await waitFor(
      () => bootsIn(readLog(cluster), cluster.pid).filter((b) => b.index === 0 && b.phase === 0).length === 2,
      15_000,
      () => `worker 0 respawned:\n${readLog(cluster)}`,
    )
    const indexOf = indexesByPid(cluster)
    assert.equal(indexOf.size, 3)
    cluster.setApp(RAISING_APP)
    const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json', '--timeout', '20'])
    assert.equal(result.code, 5, told(result))
    const restart = readLog(cluster).split('- Starting phased worker restart, phase: 1')[1] ?? ''
    const stopped = Number(restart.match(/- Stopping (\d+) for phased upgrade\.\.\./)?.[1])
    const retried = indexOf.get(stopped)
    assert.ok(retried !== undefined && retried !== 0, `Puma stopped worker ${retried} (pid ${stopped}) first`)
    const {error} = jsonOf(result)
    assert.equal(error.failure.index, retried)
    assert.match(error.message, new RegExp(`^Worker ${retried} failed to boot`))
    assert.match(error.message, new RegExp(`Puma keeps retrying worker ${retried}\\b`))
  })

  describe('a log that ends mid-line', () => {
    it('the app printed a partial line before ctl started: a good release exits 0', async () => {
      const cluster = await start({workers: 2, app: PRINTING_APP})
      await visit(cluster)
      await waitFor(
        () => readLog(cluster).endsWith(PARTIAL_LINE),
        5000,
        () => 'the partial line in the log',
      )
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json', '--timeout', '10'])
      assert.equal(result.code, 0, told(result))
      assert.equal(jsonOf(result).outcome, 'done')
      assert.match(readLog(cluster), new RegExp(`${PARTIAL_LINE}\\[${cluster.pid}\\] - Starting phased worker restart`))
    })

    it('the app prints a partial line during the restart: a good release exits 0', async () => {
      const cluster = await start({workers: 2, app: PRINTING_APP})
      cluster.setApp(`sleep 1.5\n${PRINTING_APP}`) // new workers boot slowly: the request lands before their boot lines
      const run = startCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json', '--timeout', '15'])
      await waitFor(
        () => /- TERM sent to \d+/.test(readLog(cluster)),
        10_000,
        () => 'the restart under way',
      )
      await visit(cluster) // worker 1, still old, prints
      const result = await run.result
      assert.equal(result.code, 0, told(result))
      assert.equal(jsonOf(result).outcome, 'done')
      assert.match(readLog(cluster), new RegExp(`${PARTIAL_LINE}\\[${cluster.pid}\\] `), "Puma's line glued on")
    })
  })

  describe("Puma's log_formatter with a timestamp in front", () => {
    const withPid = `log_formatter { |str| "#{${TIMESTAMP}} [#{Process.pid}] #{str}" }`

    it('timestamp and [pid]: a good release exits 0', async () => {
      const cluster = await start({workers: 2, extraConfig: withPid})
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json', '--timeout', '10'])
      assert.equal(result.code, 0, told(result))
      assert.deepEqual(
        jsonOf(result)
          .workers.map((w: {index: number}) => w.index)
          .sort(),
        [0, 1],
      )
    })

    it('timestamp and [pid]: a broken release exits 5', async () => {
      const cluster = await start({workers: 2, extraConfig: withPid})
      cluster.setApp(RAISING_APP)
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json', '--timeout', '10'])
      assert.equal(result.code, 5, told(result))
      assert.equal(jsonOf(result).error.outcome, 'worker-failed')
    })

    it('timestamp only, no [pid], with a control server: a good release exits 0 within seconds', async () => {
      const cluster = await start({
        workers: 2,
        control: 'tcp',
        extraConfig: `log_formatter { |str| "#{${TIMESTAMP}} #{str}" }`,
      })
      // the state file names the control server: ctl reads /stats before the signal and confirms with it
      const result = await runCtl(['phased-restart', '--state', cluster.statePath, '--json', '--timeout', '20'])
      assert.equal(result.code, 0, told(result))
      assert.ok(result.durationMs < 10_000, `took ${result.durationMs} ms`)
      const now = await statsOf(cluster)
      assert.equal(now.phase, 1)
      assert.equal(now.old_workers, 0)
    })
  })

  it('rollback after a release that hung at boot: the rollback exits 0', async () => {
    const cluster = await start({workers: 2, extraConfig: 'worker_boot_timeout 4'})
    cluster.setApp("sleep 600\nrun ->(env) { [200, {}, ['never']] }\n")
    const hung = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '3'])
    assert.equal(hung.code, 6, told(hung))
    cluster.setApp(OK_APP)
    const rollback = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--json', '--timeout', '25'])
    assert.equal(rollback.code, 0, told(rollback))
    assert.equal(jsonOf(rollback).phase, 2)
    // the scenario as the issue tells it: Puma killed the hung worker during the rollback
    assert.match(readLog(cluster), /! Terminating timed out worker \(worker failed to boot within 4 seconds\)/)
  })
})
