import {strict as assert} from 'node:assert'

import phasedRestart from '../../src/commands/phased-restart.js'
import {CtlError, EXIT} from '../../src/errors.js'
import {fakeContext, flagsOf} from '../helpers/command-context.js'
import {bootLines, startFakePuma} from '../helpers/fake-puma.js'
import {stoppedAfter} from '../helpers/processes.js'

/**
 * `ctl phased-restart` in-process, against a fake Puma 5.6 of its own (pidfile, log). The progress
 * view draws on the context's terminal (a fake pipe here); its spinner has its unit test (render-restart).
 */
describe('phased-restart (in-process)', function () {
  this.timeout(30_000)
  const start = stoppedAfter('afterEach', startFakePuma)

  it('--no-wait: sends SIGUSR1, logs what it sent and how to follow it, and returns without waiting', async () => {
    const fake = await start({workers: 2})
    const from = fake.logSize()
    const {context, logged, shown} = fakeContext()
    const report = await phasedRestart.run(
      flagsOf(phasedRestart, ['--pidfile', fake.pidfile, '--no-wait', '--quiet']),
      context,
    )
    assert.equal(report.waited, false)
    assert.equal(report.sent, 'SIGUSR1')
    assert.equal(report.pid, fake.pid)
    assert.ok(report.resume)
    assert.deepEqual(logged, [
      `Sent SIGUSR1 to Puma master ${fake.pid}; not waiting (--no-wait): whether the restart works is not known`,
      `To follow it to its verdict: ctl wait --since ${report.resume}`,
    ])
    assert.equal(shown.length, 1, 'the view was not handed to the context')
    // Puma got it: the workers are replaced in phase 1 all the same.
    await fake.waitForLog((text) => bootLines(text).filter((line) => line.phase === 1).length === 2, {from})
  })

  it('waits until every worker booted in the new phase, then logs the summary and returns the report', async () => {
    const fake = await start({workers: 2})
    const before = fake.workerPids()
    const {context, logged, stderr} = fakeContext()
    const report = await phasedRestart.run(
      flagsOf(phasedRestart, ['--pidfile', fake.pidfile, '--timeout', '20']),
      context,
    )
    assert.ok(report.waited)
    assert.equal(report.outcome, 'done')
    assert.equal(report.phase, 1)
    assert.equal(report.logs[0], fake.logPath, 'not the log found from /proc')
    assert.deepEqual(report.workers.map((w) => w.newPid).sort(), fake.workerPids().sort())
    assert.ok(report.workers.every((w) => w.oldPid !== undefined && before.includes(w.oldPid)))
    assert.equal(logged.length, 1)
    assert.match(logged[0], /^Phased restart finished in .*: phase 1, 2\/2 workers booted/)
    // Off a terminal, the progress is one plain line per event, without escapes.
    assert.deepEqual(stderr.written.split('\n').slice(0, -1), [
      `Sent SIGUSR1 to Puma master ${fake.pid}; following ${report.logs.join(' and ')}`,
      '→ Puma started the phased restart: phase 1',
      ...report.workers.map(
        (w) => `✔ worker ${w.index} booted in phase 1 (pid ${w.newPid}, was ${w.oldPid}, ${w.bootSeconds}s)`,
      ),
    ])
  })

  it('Ctrl-C (the context signal) ends the wait with exit 130 and sends nothing more', async () => {
    const fake = await start({workers: 2})
    fake.setBehaviour('boot-hang')
    const from = fake.logSize()
    const {context, interrupt, logged} = fakeContext()
    const run = phasedRestart.run(
      flagsOf(phasedRestart, ['--pidfile', fake.pidfile, '--timeout', '20', '--quiet']),
      context,
    )
    await fake.waitForLog(/Starting phased worker restart, phase: 1/, {from})
    interrupt()
    await assert.rejects(run, (error: CtlError) => {
      assert.equal(error.exitCode, EXIT.interrupted)
      assert.match(error.message, /interrupted while waiting: .*nothing more was sent to Puma/)
      return true
    })
    assert.deepEqual(logged, [])
    assert.ok(fake.isAlive(), 'the master was stopped')
    // One USR1, and nothing after it: no second restart, no stop.
    const since = fake.log().slice(from)
    assert.equal(since.match(/Starting phased worker restart/g)?.length, 1, since)
    assert.doesNotMatch(since, /Gracefully stopping|Restarting\.\.\./)
  })
})
