import {strict as assert} from 'node:assert'

import stop from '../../src/commands/stop.js'
import {CtlError, EXIT} from '../../src/errors.js'
import {fakeContext, flagsOf} from '../helpers/command-context.js'
import {startFakePuma} from '../helpers/fake-puma.js'
import {stoppedAfter} from '../helpers/processes.js'

/** `ctl stop` in-process, against a fake Puma 5.6 found by its own pidfile. */
describe('stop (in-process)', function () {
  this.timeout(30_000)
  const start = stoppedAfter('afterEach', startFakePuma)

  it('notes what it waits for, sends SIGTERM, and returns once the master has exited', async () => {
    const fake = await start({workers: 2})
    const {context, logged, noted} = fakeContext()
    const result = await stop.run(flagsOf(stop, ['--pidfile', fake.pidfile, '--timeout', '10']), context)
    assert.equal(result.pid, fake.pid)
    assert.equal(result.sent, 'SIGTERM')
    assert.deepEqual(noted, [
      `Stopping Puma master ${fake.pid} (stop, by signal); waiting up to 10 s for it to exit...`,
    ])
    assert.equal(logged.length, 1)
    assert.match(logged[0], new RegExp(`^Puma master ${fake.pid} stopped in \\d+\\.\\d s \\(sent SIGTERM\\)$`))
    await fake.exited
    assert.ok(!fake.isAlive())
  })

  it('refuses a PID that is no Puma master, with exit 3, and sends nothing', async () => {
    const {context, logged, noted} = fakeContext()
    await assert.rejects(
      stop.run(flagsOf(stop, ['--pid', String(process.pid)]), context),
      (error: CtlError) => error.exitCode === EXIT.noMaster,
    )
    assert.deepEqual([...noted, ...logged], [])
  })
})
