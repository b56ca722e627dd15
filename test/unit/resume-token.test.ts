import {strict as assert} from 'node:assert'

import {CtlError, EXIT} from '../../src/errors.js'
import {
  beforeOf,
  decodeResume,
  encodeResume,
  MAX_TOKEN_CHARS,
  type ResumeToken,
  resumeTokenOf,
} from '../../src/restart/resume-token.js'
import {assertSameMaster} from '../../src/restart/resume.js'
import {type PumaMaster} from '../../src/target/scan.js'

const TOKEN: ResumeToken = {
  kind: 'phased',
  master: {pid: 1234, startTicks: 4242, startedAt: '2026-01-02T03:04:05.000Z', uid: 1000},
  family: [
    {pid: 2000, index: 0, worker: true, zombie: false, start: 5000},
    {pid: 2001, index: 1, worker: true, zombie: false, start: 5001},
  ],
  tids: [1234, 900_000],
  namesThreads: true,
  logs: [{path: '/app/log/puma.log', dev: 64_769, ino: 131_073, offset: 4096}],
  phase: 3,
  sentAt: 1_780_000_000_000,
}

const master = (pid: number, startTicks: number): PumaMaster => ({pid, startTicks, binds: [], cmd: 'puma', workers: []})

/** The usage error decodeResume throws for `text`, and its one line. */
function refused(text: string): string {
  try {
    decodeResume(text)
  } catch (error) {
    assert.ok(error instanceof CtlError, String(error))
    assert.equal(error.exitCode, EXIT.usage)
    assert.doesNotMatch(error.message, /\n/)
    return error.message
  }

  return assert.fail(`accepted ${text}`)
}

const encodeJson = (value: unknown) => `v1.${Buffer.from(JSON.stringify(value)).toString('base64url')}`
const withPath = (path: string) => encodeJson({...TOKEN, logs: [{path, dev: 1, ino: 1, offset: 0}]})

describe('the resume token', () => {
  it('round-trips, URL-safe, and carries no secret', () => {
    const text = encodeResume(TOKEN)
    assert.match(text, /^v1\.[\w-]+$/)
    assert.deepEqual(decodeResume(text), TOKEN)
    assert.deepEqual(decodeResume(`  ${text}\n`), TOKEN, 'pasted with white space')
    assert.doesNotMatch(Buffer.from(text.slice(3), 'base64url').toString(), /token|env/i)
  })

  it('is made from the baseline before the signal, with each member’s start ticks', () => {
    const token = resumeTokenOf({
      before: {
        masterPid: 1234,
        masterUid: 1000,
        masterTids: [1234, 900_000],
        namesThreads: true,
        family: [
          {pid: 2000, index: 0, worker: true, zombie: false, serving: true},
          {pid: 2001, index: 1, worker: true, zombie: false},
        ],
      },
      kind: 'phased',
      logs: TOKEN.logs,
      master: {startTicks: 4242, startedAt: new Date(TOKEN.master.startedAt!)},
      phase: 3,
      sentAt: TOKEN.sentAt,
      startTicksOf: (pid) => pid + 3000,
    })
    assert.deepEqual(token, TOKEN)
  })

  it('refuses what ctl did not write: one line, exit 2', () => {
    assert.match(refused('hello'), /does not begin with v1\./)
    assert.match(refused('v2.e30'), /version v2 is not one this ctl reads/)
    assert.match(refused('v1.!!!'), /not base64url/)
    assert.match(refused(`v1.${Buffer.from('{"kind":').toString('base64url')}`), /not JSON/)
    assert.match(refused(encodeJson([])), /not an object/)
    assert.match(refused(encodeJson({...TOKEN, kind: 'stop'})), /no restart kind/)
    assert.match(refused(encodeJson({...TOKEN, master: {pid: -1}})), /no master/)
    // Quoted in messages ("sent to master N started at …"): a time, nothing else.
    for (const startedAt of ['\u001B]0;owned\u0007', 'x'.repeat(20_000), '2026-01-02'])
      assert.match(refused(encodeJson({...TOKEN, master: {...TOKEN.master, startedAt}})), /no master/)
    assert.match(refused(encodeJson({...TOKEN, family: [{pid: '2000'}]})), /no family/)
    assert.match(refused(encodeJson({...TOKEN, logs: [{path: '', dev: 1, ino: 1, offset: 0}]})), /no log positions/)
    assert.match(refused(encodeJson({...TOKEN, sentAt: 'now'})), /no time sent/)
    assert.match(refused(encodeJson({...TOKEN, sentAt: -1})), /no time sent/)
    assert.match(refused(encodeJson({...TOKEN, sentAt: 1.5})), /no time sent/)
    assert.match(refused(encodeJson({...TOKEN, sentAt: 9e15})), /no time sent/, 'beyond what a Date holds')
    assert.match(refused(encodeJson({...TOKEN, tids: [1.5]})), /no thread ids/)
  })

  it('refuses a log path it would have to show or read that ctl never writes: relative, or with control characters', () => {
    for (const path of [
      'log/puma.log',
      '../../etc/shadow',
      '/app/log/\u001B[2Jpuma.log',
      '/app/log/a\nb',
      '/a\u0085b',
    ]) {
      const message = refused(withPath(path))
      assert.match(message, /no log positions/, path)
      // eslint-disable-next-line no-control-regex -- the point: no control character printed
      assert.doesNotMatch(message, /[\u0000-\u001F\u007F-\u009F]/)
    }

    assert.equal(decodeResume(withPath('/srv/my app/log/puma.log')).logs[0].path, '/srv/my app/log/puma.log')
  })

  it('refuses an oversized token before reading it', () => {
    assert.match(refused(`v1.${'A'.repeat(MAX_TOKEN_CHARS)}`), new RegExp(`longer than ${MAX_TOKEN_CHARS}`))
  })

  it('gives back the baseline, less members whose PID now runs a process started at another time', () => {
    const before = beforeOf(TOKEN, (pid) => (pid === 2001 ? 9999 : pid + 3000))
    assert.deepEqual(
      before.family.map((member) => member.pid),
      [2000],
    )
    assert.equal(before.masterPid, 1234)
    assert.deepEqual(before.masterTids, TOKEN.tids)
    assert.equal(beforeOf(TOKEN, () => undefined).family.length, 2, 'gone, or not known: kept')
  })

  it('is for one master: another PID, or the same PID started at another time, is exit 2 naming both', () => {
    assert.equal(assertSameMaster(TOKEN, master(1234, 4242)).pid, 1234)
    for (const other of [master(1235, 4242), master(1234, 4343)]) {
      assert.throws(
        () => assertSameMaster(TOKEN, other, new Date('2026-02-03T00:00:00.000Z')),
        (error: CtlError) =>
          error.exitCode === EXIT.usage &&
          error.message ===
            `the restart in --since was sent to master 1234 started at 2026-01-02T03:04:05.000Z; the master here is ${other.pid} started at 2026-02-03T00:00:00.000Z`,
      )
    }

    assert.throws(() => assertSameMaster(TOKEN, undefined), /ctl found only a control server here/)
  })
})
