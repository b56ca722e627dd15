import {strict as assert} from 'node:assert'

import {WORKER_TIMEOUT_SECONDS} from '../../src/control/stats.js'
import {formatBytes, formatCheckin, formatDuration} from '../../src/render/format.js'
import {formatTable} from '../../src/text/table.js'

const red = (text: string) => `\u001B[31m${text}\u001B[39m`

describe('render/format', () => {
  describe('formatDuration', () => {
    const cases: Array<[number | undefined, string]> = [
      [undefined, '?'],
      [0, '0.0 s'],
      [2.345, '2.3 s'],
      [9.94, '9.9 s'],
      [12.4, '12 s'],
      [59, '59 s'],
      [60, '1m'],
      [61, '1m 1s'],
      [3599, '59m 59s'],
      [3600, '1h'],
      [3661, '1h 1m'],
      [86_400 + 3600 + 61, '1d 1h'],
      [3 * 86_400 + 5, '3d 5s'],
    ]
    for (const [seconds, expected] of cases) {
      it(`${seconds} s as ${expected}`, () => assert.equal(formatDuration(seconds), expected))
    }
  })

  describe('formatBytes', () => {
    const cases: Array<[number | undefined, string]> = [
      [undefined, '?'],
      [0, '0 KiB'],
      [1536, '2 KiB'],
      [1024 * 1024 - 1, '1024 KiB'],
      [1024 * 1024, '1.0 MiB'],
      [150 * 1024 * 1024 + 300 * 1024, '150.3 MiB'],
    ]
    for (const [bytes, expected] of cases) {
      it(`${bytes} bytes as ${expected}`, () => assert.equal(formatBytes(bytes), expected))
    }
  })

  describe('formatCheckin', () => {
    it('is "-" when unknown', () => assert.equal(formatCheckin(undefined), '-'))

    it("is the age up to Puma's worker timeout", () => {
      assert.equal(formatCheckin(0), '0 s ago')
      assert.equal(formatCheckin(WORKER_TIMEOUT_SECONDS), `${WORKER_TIMEOUT_SECONDS} s ago`)
    })

    it("flags a check-in older than Puma's worker timeout", () =>
      assert.equal(
        formatCheckin(WORKER_TIMEOUT_SECONDS + 1),
        `${WORKER_TIMEOUT_SECONDS + 1} s ago (STALE: past worker_timeout)`,
      ))
  })

  describe('formatTable', () => {
    it('aligns left-justified columns two spaces apart, without trailing spaces', () => {
      assert.deepEqual(
        formatTable(
          ['PID', 'TAG', 'FOLDER'],
          [
            ['1', 'app', '/srv/app'],
            ['12345', '', '/'],
          ],
        ),
        ['PID    TAG  FOLDER', '1      app  /srv/app', '12345       /'],
      )
    })

    it('gives colour codes no width', () => {
      assert.deepEqual(formatTable(['BOOTED', 'PID'], [[red('no'), '7']]), ['BOOTED  PID', `${red('no')}      7`])
    })

    it('takes a missing cell as empty, and a header alone', () => {
      assert.deepEqual(formatTable(['A', 'B'], [['x']]), ['A  B', 'x'])
      assert.deepEqual(formatTable(['A', 'BB'], []), ['A  BB'])
    })
  })
})
