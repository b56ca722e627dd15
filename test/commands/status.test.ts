import {strict as assert} from 'node:assert'
import {stripVTControlCharacters} from 'node:util'

import status from '../../src/commands/status.js'
import {CtlError, EXIT} from '../../src/errors.js'
import {fakeContext, flagsOf} from '../helpers/command-context.js'
import {type FakePuma, startFakePuma} from '../helpers/fake-puma.js'
import {stoppedAfter} from '../helpers/processes.js'

/** `ctl status` in-process, against a fake Puma 5.6 found by its own pidfile. */
describe('status (in-process)', function () {
  this.timeout(30_000)
  const start = stoppedAfter('after', startFakePuma)
  let fake: FakePuma

  before(async () => {
    fake = await start({workers: 2})
  })

  it('logs the master and a row a worker, and returns the status', async () => {
    const {context, logged, noted} = fakeContext()
    const result = await status.run(flagsOf(status, ['--pidfile', fake.pidfile]), context)
    assert.equal(result.pid, fake.pid)
    assert.equal(result.version, '5.6.5')
    assert.equal(result.mode, 'cluster')
    assert.equal(result.tag, fake.tag)
    assert.equal(result.folder, fake.dir)
    assert.deepEqual(
      result.workers.map((w) => w.pid),
      fake.workerPids(),
    )
    assert.equal(logged.length, 1)
    const lines = logged[0].split('\n')
    assert.match(lines[0], new RegExp(`^● Puma 5\\.6\\.5 cluster mode, pid ${fake.pid}, up `))
    assert.equal(lines[1], `  tag       ${fake.tag}`)
    assert.match(lines.at(-3)!, /^ {2}INDEX\s+PID\s+UPTIME\s+RSS\s+CPU$/)
    for (const [index, pid] of fake.workerPids().entries())
      assert.match(lines.at(index - 2)!, new RegExp(`^ {2}${index}\\s+${pid}\\s`))
    assert.deepEqual(noted, [])
  })

  it('colours its lines on a terminal, and not with NO_COLOR', async () => {
    const coloured = fakeContext({isTTY: true})
    await status.run(flagsOf(status, ['--pidfile', fake.pidfile]), coloured.context)
    assert.notEqual(stripVTControlCharacters(coloured.logged[0]), coloured.logged[0], 'no colour codes')
    const plain = fakeContext({env: {NO_COLOR: '1'}, isTTY: true})
    await status.run(flagsOf(status, ['--pidfile', fake.pidfile]), plain.context)
    assert.equal(stripVTControlCharacters(plain.logged[0]), plain.logged[0])
  })

  it('logs nothing under --json: the result is the output', async () => {
    const {context, logged} = fakeContext({json: true})
    const result = await status.run(flagsOf(status, ['--pidfile', fake.pidfile, '--json']), context)
    assert.equal(result.pid, fake.pid)
    assert.deepEqual(logged, [])
  })

  it('throws exit 3 for a pidfile that does not exist', async () => {
    const {context, logged} = fakeContext()
    await assert.rejects(
      status.run(flagsOf(status, ['--pidfile', `${fake.dir}/none.pid`]), context),
      (error: CtlError) => error.exitCode === EXIT.noMaster,
    )
    assert.deepEqual(logged, [])
  })
})
