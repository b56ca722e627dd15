import {strict as assert} from 'node:assert'
import {appendFileSync} from 'node:fs'

import {pumaAtLeast} from '../../src/log/dialects.js'
import {isAlive, stoppedAfter} from '../helpers/processes.js'
import {type ClusterOptions, type PumaCluster, RAISING_APP, startPumaCluster} from '../helpers/puma-cluster.js'
import {type PumaVersion, REAL_PUMA_VERSIONS} from '../helpers/real-puma.js'
import {type CtlResult, jsonOf, runCtl} from '../helpers/run-ctl.js'

/**
 * The paths that matter, against every real Puma the suite runs (Debian's 5.6.5 and the builds of
 * shared/real-puma): each asserts ctl's exit code and one fact from --json or the process table.
 * Every version runs with its own defaults (7.0+ preloads with 2+ workers), and the restarts also with
 * the explicit opposite preload setting. Scenarios where the versions agree by construction (log
 * rotation, Ctrl-C, terminals, PID checks) stay in the 5.6.5 suites; the ones that cannot differ
 * between versions run on the newest only.
 *
 * With VERSIONS_TABLE=FILE each ctl run appends `version<TAB>scenario<TAB>exit<TAB>ms` to FILE: the
 * table in BENCHMARKS.md ("Real Pumas: versions × scenarios").
 */

/** Puma 7.0 made `preload_app!` the default with 2+ workers: USR1 then is a hot restart. */
const preloadsByDefault = (version: PumaVersion) => Number(version.split('.')[0]) >= 7

const NEWEST = REAL_PUMA_VERSIONS.at(-1)!

/** ctl as a child process; with VERSIONS_TABLE=FILE, the run is appended to FILE under `version` and `scenario`. */
async function ctl(version: PumaVersion, scenario: string, args: string[]): Promise<CtlResult> {
  const result = await runCtl(args)
  const table = process.env.VERSIONS_TABLE
  if (table) appendFileSync(table, `${version}\t${scenario}\t${result.code}\t${result.durationMs}\n`)
  return result
}

type Restart = 'phased-restart' | 'restart'
const byPidfile = (cluster: PumaCluster) => ['--pidfile', cluster.pidfile]
const byState = (cluster: PumaCluster) => ['--state', cluster.statePath]

/** A restart as a deploy runs it, under --json; --timeout 20: a hang fails the test, not mocha's timeout. */
async function restart(version: PumaVersion, scenario: string, command: Restart, target: string[]): Promise<CtlResult> {
  return ctl(version, scenario, [command, ...target, '--timeout', '20', '--json'])
}

/** A preload setting: the version's default, or the config's explicit opposite. */
interface Preload {
  extraConfig?: string
  label: string
  preloads: boolean
}

function preloadSettings(version: PumaVersion): Preload[] {
  return preloadsByDefault(version)
    ? [
        {label: 'defaults', preloads: true},
        {label: 'preload_app! false', extraConfig: 'preload_app! false', preloads: false},
      ]
    : [
        {label: 'defaults', preloads: false},
        {label: 'preload_app!', extraConfig: 'preload_app!', preloads: true},
      ]
}

/**
 * The scenarios every version runs. The restarts run with the version's default preload setting and with
 * its explicit opposite: preloading, USR1 is a hot restart, and a broken app kills the master (exit 7);
 * otherwise a broken release leaves the master retrying (exit 5).
 */
function versionScenarios(version: PumaVersion): void {
  const preloads = preloadsByDefault(version)
  const start = stoppedAfter('afterEach', startPumaCluster)
  const cluster = async (options: ClusterOptions = {}) => start({version, workers: 2, ...options})

  it('status finds the master: exit 0, and it is this version', async () => {
    const each = await cluster()
    const result = await ctl(version, 'status', ['status', ...byPidfile(each), '--json'])
    assert.equal(result.code, 0, result.stderr)
    const status = jsonOf(result)
    assert.equal(status.pid, each.pid)
    assert.equal(status.version, version)
  })

  it('hot restart, defaults: exit 0, same master, phase 0', async () => {
    const each = await cluster()
    const result = await restart(version, 'hot', 'restart', byPidfile(each))
    assert.equal(result.code, 0, result.stderr + result.stdout)
    assert.equal(jsonOf(result).restart, 'hot')
    assert.equal(jsonOf(result).phase, 0)
    assert.ok(isAlive(each.pid))
  })

  for (const preload of preloadSettings(version)) {
    const scenario = (name: string) => (preload.label === 'defaults' ? name : `${name}, ${preload.label}`)

    if (preload.preloads) {
      it(`phased restart, ${preload.label}: Puma does a hot restart instead; exit 0 with a warning`, async () => {
        const each = await cluster({extraConfig: preload.extraConfig})
        const result = await restart(version, scenario('phased'), 'phased-restart', byPidfile(each))
        assert.equal(result.code, 0, result.stderr + result.stdout)
        const report = jsonOf(result)
        assert.equal(report.restart, 'hot')
        assert.ok(
          report.warnings.some((warning: string) => /hot restart/.test(warning)),
          report.warnings,
        )
        // 7+ by default: said before the signal, from the version alone (the banner went to the console).
        if (preload.label === 'defaults')
          assert.ok(
            report.warnings.some((warning: string) => /preloads the app by default/.test(warning)),
            report.warnings,
          )
      })

      for (const [command, kind] of [
        ['phased-restart', 'phased'],
        ['restart', 'hot'],
      ] as const) {
        it(`${kind} restart of a broken release, ${preload.label}: the preloading master dies, exit 7`, async () => {
          const each = await cluster({extraConfig: preload.extraConfig})
          each.setApp(RAISING_APP)
          // --no-check: what Puma does with the signal (the boot check before it is in boot-check.test.ts)
          const result = await restart(version, scenario(`${kind} broken`), command, [...byPidfile(each), '--no-check'])
          assert.equal(result.code, 7, result.stderr + result.stdout)
          assert.match(jsonOf(result).error.message, /Unable to load application/)
          assert.equal(isAlive(each.pid), false, 'the master is gone')
        })
      }
    } else {
      it(`phased restart, ${preload.label}: exit 0, phase 1`, async () => {
        const each = await cluster({extraConfig: preload.extraConfig})
        const result = await restart(version, scenario('phased'), 'phased-restart', byPidfile(each))
        assert.equal(result.code, 0, result.stderr + result.stdout)
        assert.equal(jsonOf(result).restart, 'phased')
        assert.equal(jsonOf(result).phase, 1)
      })

      it(`phased restart of a broken release, ${preload.label}: exit 5, the old workers keep serving`, async () => {
        const each = await cluster({extraConfig: preload.extraConfig})
        each.setApp(RAISING_APP)
        // --no-check: Puma 7+'s preload_app! false is in the -C config, which ctl cannot see, so it would check first
        const result = await restart(version, scenario('phased broken'), 'phased-restart', [
          ...byPidfile(each),
          '--no-check',
        ])
        assert.equal(result.code, 5, result.stderr + result.stdout)
        assert.equal(jsonOf(result).error.outcome, 'worker-failed')
        assert.ok(isAlive(each.pid), 'the master still runs')
      })

      it(`hot restart of a broken release, ${preload.label}: exit 5, no worker serves`, async () => {
        const each = await cluster({extraConfig: preload.extraConfig})
        each.setApp(RAISING_APP)
        const result = await restart(version, scenario('hot broken'), 'restart', [...byPidfile(each), '--no-check'])
        assert.equal(result.code, 5, result.stderr + result.stdout)
        assert.match(jsonOf(result).error.message, /no worker serves/)
      })
    }
  }

  it(`a restart waited through /stats alone (--state, no log): exit 0, a ${preloads ? 'hot' : 'phased'} restart`, async () => {
    const each = await cluster({control: 'tcp', redirect: false})
    const result = await restart(version, '/stats only', 'phased-restart', byState(each))
    assert.equal(result.code, 0, result.stderr + result.stdout)
    const report = jsonOf(result)
    assert.deepEqual(report.logs, [], 'no log was followed')
    assert.equal(report.restart, preloads ? 'hot' : 'phased')
  })

  it('ctl stats through the control server, then stop: exit 0, the master is gone', async () => {
    const each = await cluster({control: 'tcp'})
    const stats = await ctl(version, 'stats', ['stats', ...byState(each), '--json'])
    assert.equal(stats.code, 0, stats.stderr)
    assert.equal(jsonOf(stats).bootedWorkers, 2)
    const stop = await ctl(version, 'stop', ['stop', ...byState(each), '--json'])
    assert.equal(stop.code, 0, stop.stderr)
    assert.equal(jsonOf(stop).pid, each.pid)
    assert.equal(isAlive(each.pid), false, 'the master is gone when ctl returns')
  })

  it('fork_worker: refork replaces workers 1.. by forks of worker 0 (which stays); exit 0', async () => {
    const each = await cluster({workers: 3, extraConfig: 'fork_worker'})
    const result = await ctl(version, 'refork', ['refork', ...byPidfile(each), '--timeout', '20', '--json'])
    assert.equal(result.code, 0, result.stderr + result.stdout)
    const report = jsonOf(result)
    assert.equal(report.restart, 'refork')
    assert.deepEqual(report.workers.map((w: {index: number}) => w.index).sort(), [1, 2])
  })

  it('refork without fork_worker: refused before anything is sent; exit 2', async () => {
    const each = await cluster()
    const before = each.workerPids()
    const result = await ctl(version, 'refork, no fork_worker', ['refork', ...byPidfile(each), '--timeout', '20'])
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, /refusing: fork_worker is not configured/)
    assert.deepEqual(each.workerPids(), before)
  })

  // Puma writes a new token at every boot unless the config pins one: ctl reads the state file again.
  it("hot restart with --state and Puma's own token: exit 0", async () => {
    const each = await cluster({control: 'tcp', controlToken: false})
    const result = await restart(version, 'hot, --state, own token', 'restart', byState(each))
    assert.equal(result.code, 0, result.stderr + result.stdout)
    assert.equal(jsonOf(result).restart, 'hot')
  })

  if (preloads) {
    // On 7+ every default `phased-restart --state` is a hot restart, with a new token.
    it("phased restart with --state and Puma's own token, defaults: exit 0", async () => {
      const each = await cluster({control: 'tcp', controlToken: false})
      const result = await restart(version, 'phased, --state, own token', 'phased-restart', byState(each))
      assert.equal(result.code, 0, result.stderr + result.stdout)
      assert.equal(jsonOf(result).restart, 'hot')
    })
  }
}

describe('real Pumas: versions × scenarios', function () {
  this.timeout(30_000)

  for (const version of REAL_PUMA_VERSIONS) {
    describe(`Puma ${version}${preloadsByDefault(version) ? ' (preload_app! by default)' : ''}`, () => {
      versionScenarios(version)
    })
  }

  // 7.2+: a data_only control server serves /stats (the wait) but no command: restarts go by signal.
  for (const version of REAL_PUMA_VERSIONS.filter((v) => pumaAtLeast(v, '7.2.0'))) {
    describe(`Puma ${version}: a data_only control server`, () => {
      const start = stoppedAfter('afterEach', startPumaCluster)
      const dataOnly = async () => start({version, workers: 2, control: 'tcp', controlDataOnly: true, redirect: false})

      it('a restart by signal, waited through /stats alone: exit 0', async () => {
        const each = await dataOnly()
        const result = await restart(version, 'data_only: restart, /stats only', 'phased-restart', byState(each))
        assert.equal(result.code, 0, result.stderr + result.stdout)
        assert.deepEqual(jsonOf(result).logs, [], 'no log was followed')
      })

      it('stop --via control: exit 2, saying the server is data-only and how to send it by signal; Puma untouched', async () => {
        const each = await dataOnly()
        const refused = await ctl(version, 'data_only: stop --via control', [
          'stop',
          ...byState(each),
          '--via',
          'control',
        ])
        assert.equal(refused.code, 2, refused.stderr)
        assert.match(refused.stderr, /control server is data-only .*not \/stop/)
        assert.match(refused.stderr, /send stop by signal: --via signal/)
        assert.equal(isAlive(each.pid), true)
        const gc = await ctl(version, 'data_only: gc', ['gc', ...byState(each)])
        assert.equal(gc.code, 2, gc.stderr)
        assert.match(gc.stderr, /data-only .*not \/gc\b[^]*needs a control server without data_only/)
        const stats = await ctl(version, 'data_only: stats', ['stats', ...byState(each), '--json'])
        assert.equal(stats.code, 0, stats.stderr)
        assert.equal(jsonOf(stats).bootedWorkers, 2)
      })
    })
  }

  /** Where the versions cannot differ in what ctl sees, the newest one is enough. */
  describe(`Puma ${NEWEST} only`, () => {
    const start = stoppedAfter('afterEach', startPumaCluster)

    it('halt: exit 0, the master is gone', async () => {
      const each = await start({version: NEWEST, workers: 2})
      const result = await ctl(NEWEST, 'halt', ['halt', ...byPidfile(each), '--json'])
      assert.equal(result.code, 0, result.stderr)
      assert.equal(jsonOf(result).sent, 'SIGQUIT')
      assert.equal(isAlive(each.pid), false)
    })

    it('fork_worker with preload_app! false: a phased restart replaces worker 0 first, then forks the others from it; exit 0', async () => {
      const each = await start({version: NEWEST, workers: 2, extraConfig: 'fork_worker\npreload_app! false'})
      const before = each.workerPids()
      const result = await restart(NEWEST, 'phased, fork_worker', 'phased-restart', byPidfile(each))
      assert.equal(result.code, 0, result.stderr + result.stdout)
      const report = jsonOf(result)
      assert.equal(report.restart, 'phased')
      assert.deepEqual(report.workers.map((w: {index: number}) => w.index).sort(), [0, 1])
      assert.ok(
        report.workers.every((w: {newPid: number}) => !before.includes(w.newPid)),
        'every worker new',
      )
    })

    // 8.0 binds Puma's default host as IPv6's [::]: in the master's title, its binds and the log.
    it('default host [::] and a control server on [::1]: status shows the bind, stats and a restart work; exit 0', async () => {
      const each = await start({version: NEWEST, workers: 2, defaultHost: true, control: 'tcp6'})
      const status = await ctl(NEWEST, 'status, default host [::]', ['status', ...byPidfile(each), '--json'])
      assert.equal(status.code, 0, status.stderr)
      assert.deepEqual(jsonOf(status).binds, [`tcp://[::]:${each.port}`])
      const stats = await ctl(NEWEST, 'stats, control on [::1]', ['stats', ...byState(each), '--json'])
      assert.equal(stats.code, 0, stats.stderr)
      assert.equal(jsonOf(stats).bootedWorkers, 2)
      const result = await restart(NEWEST, 'restart, default host [::]', 'restart', byState(each))
      assert.equal(result.code, 0, result.stderr + result.stdout)
    })

    // A bare activate_control_app opens a new unix socket at every boot: ctl reads the state file again.
    it('hot restart with --state and a bare activate_control_app: exit 0', async () => {
      const each = await start({version: NEWEST, workers: 2, extraConfig: 'activate_control_app'})
      const result = await restart(NEWEST, 'hot, --state, bare activate_control_app', 'restart', byState(each))
      assert.equal(result.code, 0, result.stderr + result.stdout)
      assert.equal(jsonOf(result).restart, 'hot')
    })
  })
})
