import {strict as assert} from 'node:assert'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {parseLine} from '../../src/log/parse.js'
import {FAILURE_DETAIL_GRACE_MS, initialState, reduce, type RestartPlan} from '../../src/restart/machine.js'
import {holdsApp, oldReleaseOf} from '../../src/restart/old-release.js'
import {fixturePlan, T0} from '../helpers/fixture-plan.js'
import {fixturesDir} from '../helpers/paths.js'

const RELEASE = '/srv/app/releases/20261101'

/** The 6.0 fixture's master and workers, running RELEASE before the signal. */
const plan = (overrides: Partial<RestartPlan> = {}) => fixturePlan({oldRelease: RELEASE, ...overrides})

/** Lines fed 1 ms apart, then one tick at `tickAt` ms after the start (or a master-exited input). */
function outcomeOf(lines: string[], p: RestartPlan, end: {at: number; type: 'master-exited' | 'tick'}) {
  let state = initialState(p)
  for (const [i, line] of lines.entries()) state = reduce(state, {type: 'log', at: T0 + i + 1, event: parseLine(line)})
  return reduce(state, {type: end.type, at: T0 + end.at}).outcome!
}

/** Every folder holds an app (the release check itself is tested below, on real folders). */
const app = () => true

const fixture = (file: string) =>
  readFileSync(join(fixturesDir, 'logs', file), 'utf8')
    .split('\n')
    .filter(Boolean)

describe('a failure names the release the old workers run', () => {
  it('oldReleaseOf: the workers’ one folder; the master’s in single mode; none when they disagree or it is not printable', () => {
    const cwd: Record<number, string | undefined> = {
      1: '/m',
      2: RELEASE,
      3: RELEASE,
      4: '/srv/app/releases/2',
      5: 'a\u001B[31m',
    }
    const read = (pid: number) => ({cwd: cwd[pid]})
    assert.equal(oldReleaseOf(1, [2, 3], read, app), RELEASE)
    assert.equal(oldReleaseOf(1, [], read, app), '/m')
    assert.equal(oldReleaseOf(1, [2, 4], read, app), undefined)
    assert.equal(oldReleaseOf(1, [5], read, app), undefined)
    assert.equal(oldReleaseOf(1, [9], read, app), undefined)
    assert.equal(
      oldReleaseOf(1, [2], () => undefined, app),
      undefined,
    )
  })

  it('names only a folder that holds an app: not one since deleted, nor wherever app code chdir’d to', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-old-release-'))
    try {
      const release = join(dir, 'releases', '20261101')
      mkdirSync(release, {recursive: true})
      writeFileSync(join(release, 'config.ru'), 'run ->(env) { [200, {}, []] }\n')
      const cwd: Record<number, string> = {2: release, 3: `${join(dir, 'releases', '20261001')} (deleted)`, 4: dir}
      const read = (pid: number) => ({cwd: cwd[pid]})
      assert.equal(oldReleaseOf(1, [2], read, holdsApp), release)
      assert.equal(oldReleaseOf(1, [3], read, holdsApp), undefined, 'a release since deleted: `current` would dangle')
      assert.equal(oldReleaseOf(1, [4], read, holdsApp), undefined, 'a worker that chdir’d elsewhere')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('a worker that fails to boot while old workers serve: "the old workers run" their folder, in the summary and the record', () => {
    const lines = fixture('puma-6.0-boot-failure.log')
    const outcome = outcomeOf(lines, plan({version: '6.0.0'}), {
      type: 'tick',
      at: lines.length + FAILURE_DETAIL_GRACE_MS + 1,
    })
    assert.equal(outcome.exitCode, 5)
    assert.equal(outcome.oldRelease, RELEASE)
    assert.equal(
      outcome.summary,
      `Worker 0 failed to boot in phase 1: boom: simulated boot failure (1 of 2 workers still runs phase 0; Puma keeps retrying worker 0); the old workers run ${RELEASE}`,
    )
  })

  it('Puma never starts the restart (timeout): every old worker still runs that folder', () => {
    const outcome = outcomeOf([], plan(), {type: 'tick', at: 60_001})
    assert.equal(outcome.exitCode, 6)
    assert.match(outcome.summary, new RegExp(`^Puma never started the restart: .*; the old workers run ${RELEASE}$`))
  })

  it('the master dies: what it ran before the restart, not "old workers run"', () => {
    const outcome = outcomeOf(['[21500] - Starting phased worker restart, phase: 1'], plan(), {
      type: 'master-exited',
      at: 10,
    })
    assert.equal(outcome.exitCode, 7)
    assert.match(outcome.summary, new RegExp(`: the server is down; before the restart Puma ran ${RELEASE}$`))
  })

  it('a success and a start name no release; an unknown folder leaves the summary as it was', () => {
    const done = outcomeOf(
      [
        '[21500] - Starting phased worker restart, phase: 1',
        '[21500] - Worker 0 (PID: 21520) booted in 0.5s, phase: 1',
        '[21500] - Worker 1 (PID: 21521) booted in 0.5s, phase: 1',
      ],
      plan(),
      {type: 'tick', at: 10},
    )
    assert.equal(done.exitCode, 0)
    assert.equal(done.oldRelease, undefined)
    assert.doesNotMatch(done.summary, /releases/)
    const unknown = outcomeOf([], plan({oldRelease: undefined}), {type: 'tick', at: 60_001})
    assert.doesNotMatch(unknown.summary, /old workers run|before the restart/)
    assert.equal('oldRelease' in unknown, false)
  })
})
