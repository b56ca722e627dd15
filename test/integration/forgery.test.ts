import {strict as assert} from 'node:assert'
import {existsSync} from 'node:fs'
import {request} from 'node:http'

import {readOrEmpty, stoppedAfter, waitFor} from '../helpers/processes.js'
import {type PumaCluster, startPumaCluster} from '../helpers/puma-cluster.js'
import {type CtlResult, jsonOf, startCtl} from '../helpers/run-ctl.js'

/**
 * Issue 10: Puma's log is shared with the app's own output, and any HTTP client can make an app print
 * lines. Whatever it prints must not change ctl's verdict: 5 for a broken release, 0 for a good one.
 * Real Puma 5.6.5; the attacker's requests go out once Puma has begun the restart ctl asked for.
 */

/** Every request prints its decoded query string: `GET /?a%0Ab` puts two lines of the client's choosing into the log. */
const LOGGING_APP = `require 'uri'
$stdout.sync = true
run ->(env) {
  $stdout.puts URI.decode_www_form_component(env['QUERY_STRING'].to_s)
  [200, {'Content-Type' => 'text/plain'}, ['logged']]
}
`

/**
 * The logging app, but the new code raises at load; old workers already loaded the old code and keep
 * serving (and logging) while Puma retries the new worker 0. Its boot takes a second before it fails,
 * as a real app's does: the attacker's window, so that the forged lines reach the log first on every run.
 */
const BROKEN_RELEASE = `sleep 1\nraise 'broken release'\n${LOGGING_APP}`

/** The logging app with a one-second boot: the restart takes a few seconds, and forged lines land in the middle. */
const GOOD_RELEASE = `sleep 1\n${LOGGING_APP}`

const ESC = '\u001B'

/** Prints `lines` into Puma's log through the app, as any HTTP client can. Resolves once the app has answered. */
async function forge(cluster: PumaCluster, lines: string[]): Promise<void> {
  const path = `/?${encodeURIComponent(lines.join('\n'))}`
  return new Promise((resolve, reject) => {
    const sent = request({host: '127.0.0.1', port: cluster.port, path, agent: false, timeout: 5000}, (response) => {
      response.resume()
      response.on('end', () =>
        response.statusCode === 200 ? resolve() : reject(new Error(`the app answered ${response.statusCode}`)),
      )
    })
    sent.on('timeout', () => sent.destroy(new Error('the app did not answer within 5 s')))
    sent.on('error', reject)
    sent.end()
  })
}

/** `count` PIDs from `from` up that no process has now (low ones: the kernel hands out new PIDs upwards). */
function absentPids(count: number, from = 11_111): number[] {
  const pids: number[] = []
  for (let pid = from; pids.length < count; pid++) if (!existsSync(`/proc/${pid}`)) pids.push(pid)
  return pids
}

const booted = (index: number, pid: number, phase: number, prefix = '') =>
  `${prefix}- Worker ${index} (PID: ${pid}) booted in 0.01s, phase: ${phase}`

/** A whole forged restart: its phase line, then every worker booted in that phase. */
const forgedRestart = (phase: number, pids: number[], prefix = '') => [
  `${prefix}- Starting phased worker restart, phase: ${phase}`,
  ...pids.map((pid, index) => booted(index, pid, phase, prefix)),
]

interface Attack {
  /** ctl's arguments after `phased-restart` (default: `--pidfile PIDFILE --json`). */
  args?: string[]
  /** The lines to forge, one request each, from what the test knows once Puma has begun the restart. */
  lines: (restart: {masterPid: number; oldWorkers: number[]; phase: number}) => string[][]
  /** The code Puma loads in the restart (the cluster runs LOGGING_APP before). */
  release: string
}

/**
 * Runs ctl's phased restart of `release` and, once the master has logged the restart's start (so ctl
 * has signalled and follows the log), sends the forged lines. Returns ctl's result.
 */
async function restartUnderAttack(cluster: PumaCluster, attack: Attack): Promise<CtlResult> {
  const oldWorkers = cluster.workerPids()
  assert.equal(oldWorkers.length, 3, 'three workers before the restart')
  cluster.setApp(attack.release)
  const run = startCtl(['phased-restart', ...(attack.args ?? ['--pidfile', cluster.pidfile, '--json'])])
  const phaseLine = new RegExp(`^\\[${cluster.pid}\\] - Starting phased worker restart, phase: (\\d+)$`, 'm')
  await waitFor(
    // ctl gone already (it failed before signalling): its result will say why
    () => phaseLine.test(readOrEmpty(cluster.logPath)) || run.child.exitCode !== null,
    15_000,
    () => `the master's phase line; ctl said:\n${run.stderrSoFar()}`,
  )
  const phase = Number(phaseLine.exec(readOrEmpty(cluster.logPath))?.[1])
  for (const lines of attack.lines({masterPid: cluster.pid, oldWorkers, phase})) {
    await forge(cluster, lines) // eslint-disable-line no-await-in-loop -- the log must hold them in this order
  }

  return run.result
}

const ascending = (a: number, b: number) => a - b

/** ctl's exit and output for an assertion message, its escapes shown, not obeyed, by the test's own terminal. */
const told = (result: CtlResult) =>
  `exit ${result.code} in ${result.durationMs} ms\n${result.stdout}${result.stderr}`.replaceAll(ESC, String.raw`\x1b`)

describe('lines an HTTP client makes the app print do not change the verdict (real Puma)', function () {
  this.timeout(60_000)
  const start = stoppedAfter('afterEach', startPumaCluster)

  // Without a `[pid] ` prefix a line is the app's, never the master's.
  for (const [name, phaseOf] of [
    ['a phase of its own (999)', () => 999],
    ['the real next phase', (real: number) => real],
  ] as const) {
    it(`broken release + forged success without prefix, ${name}: exit 5`, async () => {
      const cluster = await start({workers: 3, app: LOGGING_APP})
      const result = await restartUnderAttack(cluster, {
        release: BROKEN_RELEASE,
        lines: ({phase}) => [forgedRestart(phaseOf(phase), absentPids(3))],
      })
      assert.equal(result.code, 5, told(result))
      assert.equal(jsonOf(result).error.outcome, 'worker-failed')
    })
  }

  // The master's own prefix is no proof either: a booted worker must be a new child of the master.
  for (const [name, pidsOf] of [
    ['PIDs no process has', () => absentPids(3)],
    ["the old workers' PIDs", (oldWorkers: number[]) => oldWorkers],
  ] as const) {
    it(`broken release + forged success with the master's prefix, ${name}: exit 5`, async () => {
      const cluster = await start({workers: 3, app: LOGGING_APP})
      const result = await restartUnderAttack(cluster, {
        release: BROKEN_RELEASE,
        lines: ({masterPid, oldWorkers, phase}) => [
          pidsOf(oldWorkers).map((pid, index) => booted(index, pid, phase, `[${masterPid}] `)),
        ],
      })
      assert.equal(result.code, 5, told(result))
      assert.equal(jsonOf(result).error.outcome, 'worker-failed')
    })
  }

  it('broken release + forged success, with --expect-dir and --health-url: exit 5 (old workers still answer)', async () => {
    const cluster = await start({workers: 3, app: LOGGING_APP})
    const result = await restartUnderAttack(cluster, {
      release: BROKEN_RELEASE,
      args: [
        '--pidfile',
        cluster.pidfile,
        '--expect-dir',
        cluster.dir,
        '--health-url',
        `http://127.0.0.1:${cluster.port}/`,
        '--json',
      ],
      lines: ({phase}) => [forgedRestart(999, absentPids(3)), forgedRestart(phase, absentPids(3))],
    })
    assert.equal(result.code, 5, told(result))
    assert.equal(jsonOf(result).error.outcome, 'worker-failed')
  })

  it('good release + forged failures (unprefixed, foreign prefixes, the master prefix naming no new worker): exit 0, every worker really new', async () => {
    const cluster = await start({workers: 3, app: LOGGING_APP})
    const before = cluster.workerPids()
    const result = await restartUnderAttack(cluster, {
      release: GOOD_RELEASE,
      lines: ({masterPid, oldWorkers}) => [
        ['! Terminating timed out worker: 99999'],
        ['[99999] ! Unable to start worker'],
        ['[99998] ! Unable to start worker', '[99998] Early termination of worker'],
        [`[${masterPid}] ! Terminating timed out worker (worker failed to boot within 60 seconds): 99997`],
        // PIDs that exist, but that the master did not fork since the signal
        [`[${oldWorkers[2]}] ! Unable to start worker`, `[${oldWorkers[2]}] Early termination of worker`],
        [`[${process.pid}] ! Unable to start worker`],
        [`[${masterPid}] ! Terminating timed out worker (worker failed to boot within 60 seconds): ${oldWorkers[1]}`],
      ],
    })
    assert.equal(result.code, 0, told(result))
    const after = cluster.workerPids()
    const {workers} = jsonOf(result)
    assert.deepEqual(workers.map((w: {index: number}) => w.index).sort(ascending), [0, 1, 2])
    const newPids = workers.map((w: {newPid: number}) => w.newPid).sort(ascending)
    assert.deepEqual(newPids, [...after].sort(ascending), 'the workers reported are the ones running now')
    assert.ok(
      newPids.every((pid: number) => !before.includes(pid)),
      `none was a worker before: ${newPids} / ${before}`,
    )
  })

  it('good release with a control server + forged success of phase 999: exit 0 (the forgery must not stall it)', async () => {
    const cluster = await start({workers: 3, app: LOGGING_APP, control: 'tcp'})
    const result = await restartUnderAttack(cluster, {
      release: GOOD_RELEASE,
      // the state file names the control server, so ctl confirms with /stats; a stalled wait ends at --timeout
      args: ['--state', cluster.statePath, '--timeout', '20', '--json'],
      lines: ({phase}) => [forgedRestart(999, absentPids(3)), forgedRestart(phase, absentPids(3))],
    })
    assert.equal(result.code, 0, told(result))
    const report = jsonOf(result)
    assert.equal(report.outcome, 'done')
    assert.equal(report.phase, 1)
  })

  it('broken release + forged lines with terminal escapes: exit 5, no raw ESC on stderr or in --json', async () => {
    const fakeFinish = `${ESC}[2K${ESC}[1A${ESC}[2K✔ Phased restart finished in 0.42 s: phase 1, 3/3 workers booted`
    const attacked = async (output: string[]) => {
      const cluster = await start({workers: 3, app: LOGGING_APP})
      return restartUnderAttack(cluster, {
        release: BROKEN_RELEASE,
        args: ['--pidfile', cluster.pidfile, ...output],
        lines({masterPid}) {
          const [absent] = absentPids(1)
          return [
            [fakeFinish, `    ${fakeFinish}`],
            // a failing worker's lines, as Puma writes them: its prefix, then indented continuation lines
            [`[${absent}] ! Unable to start worker`, `[${absent}] ${fakeFinish}`, `    ${fakeFinish}`],
            [`[${masterPid}] ! Terminating timed out worker ${fakeFinish}: 99999`],
          ]
        },
      })
    }

    const plain = await attacked([])
    const json = await attacked(['--json'])
    for (const [name, result] of [
      ['plain', plain],
      ['--json', json],
    ] as const) {
      assert.equal(result.code, 5, told(result))
      assert.ok(!result.stderr.includes(ESC), `${name}: a raw ESC on stderr:\n${JSON.stringify(result.stderr)}`)
      assert.ok(!result.stdout.includes(ESC), `${name}: a raw ESC on stdout:\n${JSON.stringify(result.stdout)}`)
    }

    assert.match(plain.stderr, /^Error: /m, "ctl's error line is there")
    assert.equal(jsonOf(json).error.outcome, 'worker-failed')
  })
})
