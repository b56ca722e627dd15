import {strict as assert} from 'node:assert'

import refork from '../../src/commands/refork.js'
import {CtlError, EXIT} from '../../src/errors.js'
import {fakeContext, flagsOf} from '../helpers/command-context.js'
import {startFakePuma} from '../helpers/fake-puma.js'
import {stoppedAfter} from '../helpers/processes.js'
import {runCtl} from '../helpers/run-ctl.js'

/** A usage error (exit 2) before anything was sent: Puma's log has nothing after `from`. */
const refusedWith = (message: RegExp) => (error: CtlError) => {
  assert.equal(error.exitCode, EXIT.usage, error.message)
  assert.match(error.message, message)
  return true
}

/**
 * `ctl refork` refusing, before it signals, a Puma that says it cannot refork: fake Pumas of the
 * versions that say so. Reforks that run are tested on real Puma 5.6.5 (integration/refork).
 */
describe('refork (in-process): refused before signalling', function () {
  this.timeout(30_000)
  const start = stoppedAfter('afterEach', startFakePuma)

  it('Puma 8.0 whose banner says "(✖) refork": exit 2 in one line, with what would make it work; nothing sent', async () => {
    const fake = await start({workers: 2, dialect: '8.0'})
    const from = fake.logSize()
    // The first banner goes to the console (before stdout_redirect): that is the log passed here.
    const result = await runCtl(['refork', '--pidfile', fake.pidfile, '--log', fake.stdoutPath])
    assert.equal(result.code, EXIT.usage, result.stderr)
    assert.match(result.stderr, /refusing: fork_worker is not configured \(Puma's last banner says "\(✖\) refork"\)/)
    assert.match(result.stderr, /add fork_worker to the config/)
    assert.equal(result.stdout, '')
    assert.equal(fake.log().slice(from), '', 'Puma got nothing')
  })

  it('Puma 4.3 (its title): exit 2, fork_worker came in 5.0', async () => {
    const fake = await start({workers: 2, dialect: '4.3'})
    const {context} = fakeContext()
    await assert.rejects(
      refork.run(flagsOf(refork, ['--pidfile', fake.pidfile]), context),
      refusedWith(/^refusing: pid \d+ runs Puma 4\.3\.12, which has no refork \(fork_worker came in Puma 5\.0\)/),
    )
  })

  it('single mode: exit 2, also with --no-wait', async () => {
    const fake = await start({single: true})
    const {context} = fakeContext()
    await assert.rejects(
      refork.run(flagsOf(refork, ['--pidfile', fake.pidfile, '--no-wait']), context),
      refusedWith(/runs in single mode \(no workers\), where refork does not exist/),
    )
    assert.ok(fake.isAlive())
  })
})
