import {strict as assert} from 'node:assert'
import {appendFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {type PumaStats} from '../../src/control/stats.js'
import {CtlError, EXIT} from '../../src/errors.js'
import {decodeResume, encodeResume} from '../../src/restart/resume-token.js'
import {waitForRestart, type WaitReport} from '../../src/restart/resume.js'
import {settle} from '../helpers/fake-clock.js'
import {FakeKernel} from '../helpers/fake-kernel.js'
import {
  CONTROL,
  fromMaster,
  MASTER,
  NEW_PID,
  OLD_PID,
  realLog,
  replaced,
  RestartRun,
  RestartWorld,
  type WorldOptions,
} from '../helpers/restart-world.js'

const PHASE_1 = fromMaster('- Starting phased worker restart, phase: 1')

function kernelWorld(options: WorldOptions = {}): RestartWorld {
  return new RestartWorld({...options, kernel: (master) => new FakeKernel(master.pid, master.workers)})
}

/** `--no-wait` in the world: the token its report carries. */
async function sendNoWait(world: RestartWorld): Promise<string> {
  const report = await world.run({wait: false}).promise
  assert.ok(!report.waited && report.resume, JSON.stringify(report))
  return report.resume
}

/** Lines Puma wrote after the signal, before `ctl wait` began: in the file (read ahead) and to the follower. */
async function alreadyLogged(world: RestartWorld, lines: string[]): Promise<void> {
  appendFileSync(world.logPath, lines.map((line) => `${line}\n`).join(''))
  await world.write(...lines)
}

/** Every worker replaced and its boot logged before `ctl wait` began; then the wait's report. */
async function waitOnFinishedRestart(world: RestartWorld, token: string) {
  for (const index of [0, 1, 2]) {
    world.kernel!.exit(OLD_PID + index)
    world.kernel!.fork(NEW_PID + index, index, {booted: true})
  }

  await alreadyLogged(world, [...PHASE_1, ...replaced(0), ...replaced(1), ...replaced(2)])
  const run = waitSince(world, token)
  await run.started
  await world.advance(50)
  return run.report()
}

/** A worker's failed boot, as Puma 5.6 logs it. */
const attempt = (pid: number) => [
  `[${pid}] ! Unable to start worker`,
  `[${pid}] boom`,
  `[${pid}] Early termination of worker`,
]

/** `ctl wait --since TOKEN` in the world; `started` resolves once it follows (its preparations read real files). */
function waitSince(
  world: RestartWorld,
  token: string | undefined,
  control?: typeof CONTROL,
): RestartRun & {started: Promise<void>} {
  let started!: () => void
  const following = new Promise<void>((resolve) => {
    started = resolve
  })
  const run = waitForRestart(
    {
      since: token === undefined ? undefined : decodeResume(token),
      to: {kind: 'master', target: {master: world.master, origin: 'test'}, control},
      signal: world.controller.signal,
      timeoutMs: 60_000,
      onStart: () => started(),
      onUpdate: (state) => world.states.push(state),
    },
    world.deps,
  )
  return Object.assign(new RestartRun(run as Promise<never>), {started: following.then(async () => settle())})
}

const worker = (index: number, pid: number, phase: number, booted = true) => ({index, pid, phase, booted})
const statsOf = (phase: number, workers: PumaStats['workerStatus']): PumaStats => ({
  mode: 'cluster',
  phase,
  workers: workers.length,
  bootedWorkers: workers.filter((w) => w.booted).length,
  oldWorkers: workers.filter((w) => w.phase < phase).length,
  workerStatus: workers,
})

describe('ctl wait', () => {
  describe('a restart followed from its resume token', () => {
    let world: RestartWorld

    afterEach(() => world.cleanUp())

    it('finished before the wait began: done at once from the replayed lines and the kernel; nothing sent', async () => {
      world = kernelWorld()
      const token = await sendNoWait(world)
      const report = await waitOnFinishedRestart(world, token)
      assert.equal(report.outcome, 'done')
      assert.equal(report.phase, 1)
      assert.deepEqual(
        report.workers.map((worker) => [worker.oldPid, worker.newPid]),
        [0, 1, 2].map((i) => [OLD_PID + i, NEW_PID + i]),
      )
      assert.deepEqual(
        world.delivered.map((sent) => sent.command),
        ['phased-restart'],
        'only the restart itself sent anything',
      )
      world.assertCleanedUp()
    })

    it('failed before the wait began: its failure (exit 5) from the lines of workers gone by then, told as Puma’s', async () => {
      world = kernelWorld()
      const token = await sendNoWait(world)
      await alreadyLogged(world, [
        ...PHASE_1,
        ...fromMaster(`- Stopping ${OLD_PID} for phased upgrade...`),
        ...attempt(3100),
        ...attempt(3101),
      ])
      const run = waitSince(world, token)
      await run.started
      await world.advance(5000)
      const error = run.error(EXIT.workerFailed)
      assert.match(error.message, /Worker 0 failed to boot in phase 1/)
      assert.ok(error.details.includes('[3101] boom'), error.details.join('\n'))
      assert.ok(
        !(error.data?.warnings as string[]).some((w) => w.startsWith('ignored a log line')),
        'no line called untrue',
      )
    })

    it('under way: followed to the verdict; a forged boot line naming a gone PID does not count', async () => {
      world = kernelWorld()
      const token = await sendNoWait(world)
      world.kernel!.exit(OLD_PID)
      world.kernel!.fork(NEW_PID, 0, {booted: true})
      await alreadyLogged(world, [...PHASE_1, ...replaced(0)])
      const run = waitSince(world, token)
      await run.started
      await world.write(
        ...fromMaster(
          '- Worker 1 (PID: 31337) booted in 0.01s, phase: 1',
          '- Worker 2 (PID: 31338) booted in 0.01s, phase: 1',
        ),
      )
      await world.advance(50)
      assert.equal(run.settled.status, 'pending')
      for (const index of [1, 2]) {
        world.kernel!.exit(OLD_PID + index)
        world.kernel!.fork(NEW_PID + index, index, {booted: true})
        await world.write(...replaced(index)) // eslint-disable-line no-await-in-loop -- in Puma's order
      }

      await world.advance(50)
      assert.deepEqual(
        run.report().workers.map((worker) => worker.newPid),
        [0, 1, 2].map((i) => NEW_PID + i),
      )
    })

    it('a log rotated since the signal: said, and the new file read from its start', async () => {
      world = kernelWorld()
      const token = await sendNoWait(world)
      world.deps.logEnd = async () => ({dev: 1, ino: 2, offset: 0}) // another inode at the path now
      const report = await waitOnFinishedRestart(world, token)
      assert.ok(
        report.warnings.includes(
          `${world.logPath} is another file than at the signal (rotated): ctl reads the new one from its start; what the old one got after the signal is not read`,
        ),
        report.warnings.join('\n'),
      )
      assert.deepEqual(
        world.followed.at(-1)?.from,
        {dev: 1, ino: 1, offset: 0},
        "the follower gets the signal's position: another inode is read from 0",
      )
    })

    it("a token naming a log the master does not write to: that file is not read (the token is its bearer's text)", async () => {
      world = kernelWorld()
      const token = decodeResume(await sendNoWait(world))
      const other = join(world.dir, 'not-the-log')
      writeFileSync(other, [...PHASE_1, ...replaced(0), ...replaced(1), ...replaced(2)].join('\n') + '\n')
      const forged = encodeResume({...token, logs: token.logs.map((log) => ({...log, path: other}))})
      world.deps.logEnd = realLog.logEnd // real inodes: the master's log and the named file differ
      const run = waitSince(world, forged)
      await world.advance(50)
      await run.finished()
      // No log of the master's and no control server: nothing true to wait on.
      run.error(EXIT.usage)
      assert.ok(!world.followed.some((followed) => followed.path === other), 'the named file was never followed')
    })

    it('a token whose family leaves out the running workers: exit 2 naming one, never their old boot lines as new', async () => {
      world = kernelWorld()
      const token = decodeResume(await sendNoWait(world))
      const forged = encodeResume({...token, family: [], logs: token.logs.map((log) => ({...log, offset: 0}))})
      // The old workers' boot lines, which a log read from its start holds.
      const booted = [0, 1, 2].map((i) => `- Worker ${i} (PID: ${OLD_PID + i}) booted in 0.5s, phase: 1`)
      await alreadyLogged(world, [...PHASE_1, ...fromMaster(...booted)])
      const run = waitSince(world, forged)
      await world.advance(50)
      await run.finished()
      const error = run.error(EXIT.usage)
      assert.match(
        error.message,
        new RegExp(
          `^--since does not fit master ${MASTER}: its process ${OLD_PID} has run since 1970-01-01T00:00:00.000Z, before the restart was sent \\(1970-01-01T00:16:40.000Z\\), and the token does not name it$`,
        ),
      )
    })

    it('a token whose thread ids leave out the master’s server thread (it would count as serving anew): exit 2', async () => {
      world = kernelWorld()
      const token = decodeResume(await sendNoWait(world))
      const server = world.kernel!.threads(MASTER).find((thread) => thread.name === 'puma srv')!
      const run = waitSince(world, encodeResume({...token, tids: token.tids.filter((tid) => tid !== server.tid)}))
      await run.finished()
      assert.match(run.error(EXIT.usage).message, new RegExp(`: its thread ${server.tid} has run since 1970`))
    })

    it('a token sent later than now, or before the master here started (a reused PID): exit 2', async () => {
      world = kernelWorld()
      const token = decodeResume(await sendNoWait(world))
      const future = waitSince(world, encodeResume({...token, sentAt: token.sentAt + 3_600_000}))
      await future.finished()
      assert.match(future.error(EXIT.usage).message, /: its restart was sent at .+, later than now$/)
      const read = world.deps.readProcessDetails
      world.deps.readProcessDetails = (pid) =>
        pid === MASTER ? {...read(pid)!, startedAt: new Date(token.sentAt + 60_000)} : read(pid)
      const {startTicks, ...master} = token.master
      assert.ok(startTicks !== undefined)
      const reused = waitSince(world, encodeResume({...token, master}))
      await reused.finished()
      assert.match(reused.error(EXIT.usage).message, /: the master here started at .+, after the restart was sent/)
    })

    it("ctl wait as another user than Puma's (the master's open files hidden): exit 4, not its logs called another's", async () => {
      world = kernelWorld()
      const token = await sendNoWait(world)
      const read = world.deps.readProcessDetails
      world.deps.readProcessDetails = (pid) => {
        const details = read(pid)
        return details && {...details, stdout: undefined, stderr: undefined}
      }

      world.deps.assertMaySignal = ({pid}) => {
        throw new CtlError('notPermitted', `not permitted to signal pid ${pid}: it runs as another user`, {
          suggestion: 'run ctl as the user that runs Puma',
        })
      }

      const run = waitSince(world, token, CONTROL)
      await run.finished()
      const error = run.error(EXIT.notPermitted)
      assert.equal(
        error.message,
        `cannot follow the restart of master ${MASTER}: it runs as another user, whose log and workers ctl may not read`,
      )
      assert.equal(error.suggestion, 'run ctl as the user that runs Puma')
    })

    it('Ctrl-C during ctl wait: the error hands the same baseline on again', async () => {
      world = kernelWorld()
      const token = await sendNoWait(world)
      await alreadyLogged(world, PHASE_1)
      const run = waitSince(world, token)
      await run.started
      world.controller.abort()
      await run.finished()
      const error = run.error(EXIT.interrupted)
      assert.deepEqual(decodeResume(String(error.data?.resume)), decodeResume(token))
      assert.match(error.details.at(-1) ?? '', /^To follow it to its verdict: ctl wait --since v1\./)
    })

    it('Ctrl-C during a restart: the error carries the token, and a line says how to follow it', async () => {
      world = kernelWorld()
      const run = world.run()
      await world.sent
      world.controller.abort()
      await run.finished()
      const error = run.error(EXIT.interrupted)
      assert.match(String(error.data?.resume), /^v1\./)
      assert.deepEqual(error.details, [`To follow it to its verdict: ctl wait --since ${error.data?.resume}`])
      assert.equal(decodeResume(String(error.data?.resume)).master.pid, MASTER)
    })
  })

  describe('without a token: /stats decides which workers are old', () => {
    let world: RestartWorld

    afterEach(() => world.cleanUp())

    it('every worker on the master’s phase: says only that, exit 0', async () => {
      world = kernelWorld({
        stats: () =>
          statsOf(
            2,
            [0, 1, 2].map((i) => worker(i, OLD_PID + i, 2)),
          ),
      })
      const report = (await waitForRestart(
        {
          to: {kind: 'master', target: {master: world.master, origin: 'test'}, control: CONTROL},
          signal: world.controller.signal,
          timeoutMs: 60_000,
        },
        world.deps,
      )) as WaitReport
      assert.equal(report.outcome, 'no-restart-seen')
      assert.equal(report.exitCode, 0)
      assert.match(report.summary, /^Every worker runs phase 2, booted: no restart under way that ctl can see/)
    })

    it('a phased restart under way: the workers below the master’s phase are the old ones, followed to done', async () => {
      let answer = statsOf(1, [worker(0, NEW_PID, 1), worker(1, OLD_PID + 1, 0), worker(2, OLD_PID + 2, 0)])
      world = kernelWorld({stats: () => answer})
      world.kernel!.exit(OLD_PID)
      world.kernel!.fork(NEW_PID, 0, {booted: true})
      const run = waitSince(world, undefined, CONTROL)
      await run.started
      await world.advance(1000)
      assert.equal(run.settled.status, 'pending')
      for (const index of [1, 2]) {
        world.kernel!.exit(OLD_PID + index)
        world.kernel!.fork(NEW_PID + index, index, {booted: true})
      }

      answer = statsOf(
        1,
        [0, 1, 2].map((i) => worker(i, NEW_PID + i, 1)),
      )
      await world.advance(1000)
      await world.advance(100)
      const report = run.report()
      assert.equal(report.outcome, 'done')
      assert.deepEqual(
        report.workers.map((w) => w.newPid).sort(),
        [0, 1, 2].map((i) => NEW_PID + i),
      )
    })

    it('a control server that does not answer while the master runs (a hot restart reloading): exit 2, not "no master"', async () => {
      world = kernelWorld() // nothing listens on the control URL
      const run = waitSince(world, undefined, CONTROL)
      await run.finished()
      const error = run.error(EXIT.usage)
      assert.match(
        error.message,
        new RegExp(`^cannot wait: Puma's control server does not answer while master ${MASTER} runs \\(a hot restart`),
      )
      assert.match(error.suggestion ?? '', /--since/)
      world.masterDead = true
      const gone = waitSince(world, undefined, CONTROL)
      await gone.finished()
      gone.error(EXIT.noMaster)
    })

    it('no token and no control server: exit 2 saying what would make it possible', async () => {
      world = kernelWorld()
      const run = waitSince(world, undefined)
      await run.finished()
      const error = run.error(EXIT.usage)
      assert.ok(error instanceof CtlError)
      assert.match(
        error.message,
        /without --since, only Puma's \/stats can tell old workers from new, and no control server is known/,
      )
      assert.match(error.suggestion ?? '', /--since/)
    })
  })
})
