import {strict as assert} from 'node:assert'
import {appendFileSync, existsSync} from 'node:fs'
import {get as httpGet} from 'node:http'

import {readOrEmpty, stoppedAfter, waitFor} from '../helpers/processes.js'
import {OK_APP, type PumaCluster, RAISING_APP, startPumaCluster} from '../helpers/puma-cluster.js'
import {type CtlResult, jsonOf, runCtl, startCtl} from '../helpers/run-ctl.js'

/** Workers that take a few seconds to boot: a phased restart stays under way while the test acts. */
const SLOW_APP = `sleep 3\n${OK_APP}`

const told = (result: CtlResult) => `exit ${result.code} in ${result.durationMs} ms\n${result.stdout}${result.stderr}`

/** `ctl phased-restart --no-wait --json`: its report, which must carry the resume token. */
async function sendNoWait(cluster: PumaCluster, ...more: string[]): Promise<string> {
  const sent = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--no-wait', '--json', ...more])
  assert.equal(sent.code, 0, told(sent))
  const report = jsonOf(sent)
  assert.equal(report.outcome, 'sent')
  assert.match(report.resume, /^v1\.[\w-]+$/)
  return report.resume
}

/** Every worker is one that was not there before, on `phase` (read from the master's log). */
function assertReplaced(
  cluster: PumaCluster,
  oldPids: number[],
  report: {phase: number; workers: Array<{newPid: number}>},
) {
  const now = cluster.workerPids()
  assert.equal(now.length, oldPids.length)
  assert.ok(
    now.every((pid) => !oldPids.includes(pid)),
    `old ${oldPids} now ${now}`,
  )
  assert.deepEqual(report.workers.map((worker) => worker.newPid).sort(), [...now].sort())
}

function statusOf(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    httpGet({host: '127.0.0.1', port, path: '/', timeout: 5000}, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    }).on('error', reject)
  })
}

/** `count` PIDs from `from` up that no process has now. */
function absentPids(count: number, from = 11_111): number[] {
  const pids: number[] = []
  for (let pid = from; pids.length < count; pid++) if (!existsSync(`/proc/${pid}`)) pids.push(pid)
  return pids
}

/** The middle of a few timings. */
const median = (runs: number[]) => runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]

const phaseLine = (cluster: PumaCluster, phase = 1) =>
  readOrEmpty(cluster.logPath).includes(`[${cluster.pid}] - Starting phased worker restart, phase: ${phase}`)

/** `ctl wait`: re-attaching to a restart sent earlier, against real Puma 5.6.5. */
describe('ctl wait, real Puma', function () {
  this.timeout(90_000)
  const start = stoppedAfter('afterEach', startPumaCluster)

  it('--no-wait, then wait --since: exit 0 with every worker on the new phase', async () => {
    const cluster = await start({workers: 2})
    const oldPids = cluster.workerPids()
    cluster.setApp(SLOW_APP)
    const resume = await sendNoWait(cluster)
    const result = await runCtl(['wait', '--pidfile', cluster.pidfile, '--since', resume, '--json', '--timeout', '60'])
    assert.equal(result.code, 0, told(result))
    const report = jsonOf(result)
    assert.equal(report.outcome, 'done')
    assert.equal(report.phase, 1)
    assertReplaced(cluster, oldPids, report)
  })

  it('a restart finished before ctl wait began: exit 0 at once, from the log read since the signal', async () => {
    const cluster = await start({workers: 2})
    const oldPids = cluster.workerPids()
    const resume = await sendNoWait(cluster)
    await waitFor(
      () =>
        cluster.workerPids().every((pid) => !oldPids.includes(pid)) && /phase: 1$/m.test(readOrEmpty(cluster.logPath)),
      30_000,
      () => 'the restart to finish on its own',
    )
    await waitFor(
      () => (readOrEmpty(cluster.logPath).match(/booted in [\d.]+s, phase: 1/g) ?? []).length === 2,
      30_000,
      () => 'both boot lines',
    )
    const result = await runCtl(['wait', '--pidfile', cluster.pidfile, '--since', resume, '--json'])
    assert.equal(result.code, 0, told(result))
    assertReplaced(cluster, oldPids, jsonOf(result))
    // ctl's own start and the kernel's agreement: no waiting for anything more. Measured against `ctl status`
    // (the same start, discovery and /proc reads, no log): what the re-attachment itself adds.
    assert.ok(result.durationMs < 5000, told(result))
    const waits: number[] = []
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) {
      // eslint-disable-next-line no-await-in-loop -- one at a time, or they measure each other
      const again = await runCtl(['wait', '--pidfile', cluster.pidfile, '--since', resume, '--json'])
      assert.equal(again.code, 0, told(again))
      waits.push(again.durationMs)
      // eslint-disable-next-line no-await-in-loop -- as above
      statuses.push((await runCtl(['status', '--pidfile', cluster.pidfile, '--json'])).durationMs)
    }

    console.log(
      `      ctl wait --since on a finished restart: median ${median(waits)} ms (ctl status: ${median(statuses)} ms)`,
    )
  })

  it('a broken release: --no-wait, then wait --since exits 5 with its error lines; the old workers still serve', async () => {
    const cluster = await start({workers: 2})
    cluster.setApp(RAISING_APP)
    const resume = await sendNoWait(cluster)
    const result = await runCtl(['wait', '--pidfile', cluster.pidfile, '--since', resume, '--timeout', '60'])
    assert.equal(result.code, 5, told(result))
    assert.match(result.stderr, /^Error: Worker 0 failed to boot in phase 1/m)
    assert.match(result.stderr, /! Unable to start worker/)
    // Its failed attempts before ctl wait began are Puma's own lines: no warning calls them untrue.
    assert.doesNotMatch(result.stderr, /ignored a log line/)
    assert.equal(await statusOf(cluster.port), 200)
  })

  it('forged boot lines in the log after the signal do not make wait --since succeed: exit 5', async () => {
    const cluster = await start({workers: 2})
    cluster.setApp(`sleep 1\n${RAISING_APP}`)
    const resume = await sendNoWait(cluster)
    await waitFor(
      () => phaseLine(cluster),
      15_000,
      () => 'the phase line',
    )
    // What an app can print: Puma's lines, with the master's prefix, naming PIDs the master never forked.
    const pids = absentPids(2)
    appendFileSync(
      cluster.logPath,
      pids.map((pid, index) => `[${cluster.pid}] - Worker ${index} (PID: ${pid}) booted in 0.01s, phase: 1\n`).join(''),
    )
    const result = await runCtl(['wait', '--pidfile', cluster.pidfile, '--since', resume, '--json', '--timeout', '60'])
    assert.equal(result.code, 5, told(result))
  })

  it('Ctrl-C during a restart prints the token; wait --since then gives the verdict', async () => {
    const cluster = await start({workers: 2})
    const oldPids = cluster.workerPids()
    cluster.setApp(SLOW_APP)
    const run = startCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '60'])
    await waitFor(
      () => phaseLine(cluster),
      15_000,
      () => `the phase line; ctl said:\n${run.stderrSoFar()}`,
    )
    run.child.kill('SIGINT')
    const interrupted = await run.result
    assert.equal(interrupted.code, 130, told(interrupted))
    const resume = /ctl wait --since (v1\.[\w-]+)/.exec(interrupted.stderr)?.[1]
    assert.ok(resume, interrupted.stderr)
    const result = await runCtl(['wait', '--pidfile', cluster.pidfile, '--since', resume, '--json', '--timeout', '60'])
    assert.equal(result.code, 0, told(result))
    assertReplaced(cluster, oldPids, jsonOf(result))
  })

  it('a token for another master, or no token at all: exit 2, one line', async () => {
    const [one, other] = await Promise.all([start({workers: 1}), start({workers: 1})])
    const resume = await sendNoWait(one)
    const wrong = await runCtl(['wait', '--pidfile', other.pidfile, '--since', resume])
    assert.equal(wrong.code, 2, told(wrong))
    assert.match(wrong.stderr, new RegExp(`sent to master ${one.pid} started at .*; the master here is ${other.pid}`))
    const garbled = await runCtl(['wait', '--pidfile', other.pidfile, '--since', `${resume.slice(0, 20)}!`])
    assert.equal(garbled.code, 2, told(garbled))
    assert.match(garbled.stderr, /^Error: --since is not a resume token ctl wrote/)
    assert.doesNotMatch(garbled.stderr, /\n\s+at /, 'no stack trace')
    const none = await runCtl(['wait', '--pidfile', other.pidfile])
    assert.equal(none.code, 2, told(none))
    assert.match(none.stderr, /no control server is known/)
  })

  it('without a token, through /stats: a phased restart under way is followed; a settled cluster is said to be so', async () => {
    const cluster = await start({workers: 2, control: 'tcp'})
    const oldPids = cluster.workerPids()
    cluster.setApp(SLOW_APP)
    await sendNoWait(cluster)
    await waitFor(
      () => phaseLine(cluster),
      15_000,
      () => 'the phase line',
    )
    const result = await runCtl(['wait', '--state', cluster.statePath, '--json', '--timeout', '60'])
    assert.equal(result.code, 0, told(result))
    assertReplaced(cluster, oldPids, jsonOf(result))
    const settled = await runCtl(['wait', '--state', cluster.statePath, '--json'])
    assert.equal(settled.code, 0, told(settled))
    assert.equal(jsonOf(settled).outcome, 'no-restart-seen')
    assert.match(jsonOf(settled).summary, /every worker runs phase 1, booted: no restart under way that ctl can see/i)
  })

  /** Puma 8.0.2 with its defaults: 2 workers preload, so the phased restart is a hot restart. */
  describe('Puma 8.0.2', function () {
    this.timeout(120_000)
    const start = stoppedAfter('afterEach', startPumaCluster)

    it('--no-wait (a hot restart, the release checked first), then wait --since: exit 0, every worker new', async () => {
      const cluster = await start({version: '8.0.2', workers: 2})
      const oldPids = cluster.workerPids()
      const resume = await sendNoWait(cluster, '--timeout', '30')
      const result = await runCtl([
        'wait',
        '--pidfile',
        cluster.pidfile,
        '--since',
        resume,
        '--json',
        '--timeout',
        '60',
      ])
      assert.equal(result.code, 0, told(result))
      const report = jsonOf(result)
      assert.equal(report.restart, 'hot')
      assert.equal(report.phase, 0)
      assertReplaced(cluster, oldPids, report)
    })

    it('a broken release sent with --no-check takes the master down: wait --since gives exit 7', async () => {
      const cluster = await start({version: '8.0.2', workers: 2})
      cluster.setApp(RAISING_APP)
      const resume = await sendNoWait(cluster, '--no-check')
      await waitFor(
        () => !existsSync(`/proc/${cluster.pid}`),
        30_000,
        () => 'the master to die',
      )
      const result = await runCtl(['wait', '--pidfile', cluster.pidfile, '--since', resume, '--json'])
      assert.equal(result.code, 7, told(result))
      assert.match(jsonOf(result).error.message, new RegExp(`Puma master ${cluster.pid} .*has exited`))
    })
  })
})
