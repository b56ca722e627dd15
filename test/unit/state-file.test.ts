import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {CtlError, EXIT} from '../../src/errors.js'
import {parseStateFile} from '../../src/target/state-file.js'
import {fixturesDir} from '../helpers/paths.js'

const fixture = (name: string) => readFileSync(join(fixturesDir, 'state', name), 'utf8')

describe('parseStateFile', () => {
  it('reads a 5.6+ hand-written state file (quoted running_from)', () => {
    assert.deepEqual(parseStateFile(fixture('puma-5.6.state')), {
      pid: 7013,
      controlUrl: 'unix:///srv/app/pumactl.sock',
      controlAuthToken: 's3cret',
      runningFrom: '/srv/app/app',
    })
  })

  it('reads a 3.x–5.5 YAML.dump state file with an empty control_url', () => {
    assert.deepEqual(parseStateFile(fixture('puma-4.3.state')), {
      pid: 22_644,
      controlUrl: undefined,
      controlAuthToken: undefined,
      runningFrom: undefined,
    })
  })

  it('reads a 2.x state file (Ruby object, symbol keys) as text', () => {
    assert.deepEqual(parseStateFile(fixture('puma-2.16.state')), {
      pid: 3021,
      controlUrl: 'tcp://127.0.0.1:9293',
      controlAuthToken: 'abc123',
      runningFrom: undefined,
    })
  })

  it('reads a token of "none" and paths with spaces', () => {
    const state = parseStateFile(
      '---\npid: 99\ncontrol_url: "unix:///srv/my app/ctl.sock"\ncontrol_auth_token: none\nrunning_from: "/srv/my app"\n',
    )
    assert.equal(state.controlUrl, 'unix:///srv/my app/ctl.sock')
    assert.equal(state.controlAuthToken, 'none')
    assert.equal(state.runningFrom, '/srv/my app')
  })

  const refused: Array<[string, string, RegExp]> = [
    ['empty', '', /has no pid/],
    ['missing pid key', '---\ncontrol_url: tcp://127.0.0.1:1\n', /has no pid/],
    ['pid key without value', '---\npid:\n', /has no pid/],
    ['malformed YAML', '--- [\n{pid: 12\n', /has no pid/],
    ['pid 0', '---\npid: 0\n', /0 is not a PID ctl will signal/],
    ['pid 1', '---\npid: 1\n', /1 is not a PID ctl will signal/],
    ['negative pid', '---\npid: -5\n', /"-5" is not a process id/],
    ['garbage pid', '---\npid: abc\n', /not a process id \(not a number: 3 bytes, not shown\)/],
    ['binary', '\u0000\u00FF\u0001pid', /has no pid/],
  ]
  for (const [name, text, message] of refused) {
    it(`refuses ${name} with exit ${EXIT.noMaster}`, () => {
      assert.throws(
        () => parseStateFile(text, 'tmp/pids/puma.state'),
        (error: unknown) =>
          error instanceof CtlError &&
          error.exitCode === EXIT.noMaster &&
          message.test(error.message) &&
          error.message.includes('tmp/pids/puma.state'),
      )
    })
  }
})
