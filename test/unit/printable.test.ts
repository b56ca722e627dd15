import {strict as assert} from 'node:assert'

import {printable, printableJson} from '../../src/text/printable.js'

describe('text/printable: control characters from outside ctl never reach the terminal', () => {
  it(String.raw`shows ESC, the other C0 characters, DEL and C1 as \xNN, and keeps tabs and other text`, () => {
    assert.equal(printable('\u001B[2K\r✔ finished'), String.raw`\x1b[2K\x0d✔ finished`)
    assert.equal(printable('a\u0000b\u0007c\u007Fd\u009Be'), String.raw`a\x00b\x07c\x7fd\x9be`)
    assert.equal(printable('tab\tkept, é and ✖ too'), 'tab\tkept, é and ✖ too')
  })

  it('a newline is escaped in a line, and kept where the text has lines', () => {
    assert.equal(printable('one\ntwo'), String.raw`one\x0atwo`)
    assert.equal(
      printable('one\ntwo\u001B]0;title\u0007', {keepNewlines: true}),
      String.raw`one
two\x1b]0;title\x07`,
    )
  })

  it('as a JSON replacer: every string in a result, however deep, and nothing else', () => {
    const result = {summary: 'ok\u001B[31m', nested: {lines: ['a\u009Bb', 'c\nd']}, count: 3, none: null}
    const parsed = JSON.parse(JSON.stringify(result, printableJson))
    assert.deepEqual(parsed, {
      summary: String.raw`ok\x1b[31m`,
      nested: {lines: [String.raw`a\x9bb`, 'c\nd']},
      count: 3,
      none: null,
    })
  })
})
