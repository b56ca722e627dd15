import {strict as assert} from 'node:assert'

import {CtlError, EXIT} from '../../src/errors.js'
import {parsePid} from '../../src/target/pid.js'

describe('parsePid', () => {
  const refused: Array<[string, string, RegExp]> = [
    ['empty', '', /it is empty/],
    ['only whitespace', ' \n\t', /it is empty/],
    ['letters', 'abc', /not a process id \(not a number: 3 bytes, not shown\)$/],
    ['negative', '-1', /"-1" is not a process id/],
    ['zero (own process group)', '0', /0 is not a PID ctl will signal/],
    ['one (init)', '1', /1 is not a PID ctl will signal/],
    ['beyond pid_max', '99999999999', /99999999999 is not a PID ctl will signal/],
    ['a fraction', '12.5', /not a process id/],
    ['a sign', '+42', /not a process id/],
    ['trailing garbage', '42abc', /not a process id/],
    ['two numbers', '42 43', /not a process id/],
    ['binary bytes', '\u0000\u00014', /not a process id \(binary data: 3 bytes, not shown\)$/],
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

  it('never quotes what is not a number: a pidfile symlinked to /etc/shadow shows only its size', () => {
    const shadow = 'root:$6$saltsalt$hashhashhashhash:19000:0:99999:7:::\n'
    for (const text of [shadow, 'x'.repeat(500), `${'1'.repeat(30)}x`]) {
      assert.throws(
        () => parsePid(text, 'pidfile tmp/pids/puma.pid'),
        (error: CtlError) =>
          error.message ===
            `invalid pidfile tmp/pids/puma.pid: not a process id (not a number: ${Buffer.byteLength(text)} bytes, not shown)` &&
          !JSON.stringify({error: error.message, hint: error.suggestion}).includes(text.slice(0, 6)),
      )
    }
  })

  it('quotes a huge number as given, not as JavaScript prints it; a very long one only by its length', () => {
    assert.throws(
      () => parsePid('99999999999999999999', '--pid'),
      (error: Error) => error.message.startsWith('invalid --pid: 99999999999999999999 is not a PID ctl will signal'),
    )
    assert.throws(
      () => parsePid('9'.repeat(300), '--pid'),
      (error: Error) => error.message.startsWith('invalid --pid: a 300-digit number is not a PID ctl will signal'),
    )
  })
})
