import {strict as assert} from 'node:assert'

import {CtlError, EXIT} from '../../src/errors.js'
import {parsePid} from '../../src/target/pid.js'

describe('parsePid', () => {
  const refused: Array<[string, string, RegExp]> = [
    ['empty', '', /it is empty/],
    ['only whitespace', ' \n\t', /it is empty/],
    ['letters', 'abc', /"abc" is not a process id/],
    ['negative', '-1', /"-1" is not a process id/],
    ['zero (own process group)', '0', /0 is not a PID ctl will signal/],
    ['one (init)', '1', /1 is not a PID ctl will signal/],
    ['beyond pid_max', '99999999999', /99999999999 is not a PID ctl will signal/],
    ['a fraction', '12.5', /not a process id/],
    ['a sign', '+42', /not a process id/],
    ['trailing garbage', '42abc', /not a process id/],
    ['two numbers', '42 43', /not a process id/],
    ['binary bytes', '\u0000\u0001\u00FF4', /"\?\?\?4" is not a process id/],
    ['hex', '0x10', /not a process id/],
  ]
  for (const [name, input, message] of refused) {
    it(`refuses ${name} with exit ${EXIT.noMaster}`, () => {
      assert.throws(
        () => parsePid(input, 'pidfile x.pid'),
        (error: unknown) =>
          error instanceof CtlError &&
          error.exitCode === EXIT.noMaster &&
          message.test(error.message) &&
          error.message.startsWith('invalid pidfile x.pid: '),
      )
    })
  }

  const accepted: Array<[string, number]> = [
    ['42', 42],
    ['7013\n', 7013],
    ['  7013  \n', 7013],
    ['\r\n2\r\n', 2],
    ['4194304', 4_194_304],
  ]
  for (const [input, pid] of accepted) {
    it(`accepts ${JSON.stringify(input)} as ${pid}`, () => assert.equal(parsePid(input, 'pidfile'), pid))
  }

  it('shortens long content in the message', () => {
    assert.throws(
      () => parsePid('x'.repeat(500), '--pid'),
      (error: Error) => error.message.length < 120 && error.message.includes('…'),
    )
  })
})
