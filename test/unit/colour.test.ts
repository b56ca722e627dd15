import {strict as assert} from 'node:assert'

import {colourWanted, paintFor} from '../../src/render/colour.js'

describe('colour', () => {
  const tty = {isTTY: true} as NodeJS.WriteStream
  const pipe = {isTTY: false} as NodeJS.WriteStream
  const cases: Array<[string, NodeJS.WriteStream, NodeJS.ProcessEnv, boolean]> = [
    ['a terminal', tty, {}, true],
    ['a pipe (deploy hooks, CI)', pipe, {}, false],
    ['a terminal with NO_COLOR', tty, {NO_COLOR: '1'}, false],
    ['a terminal with an empty NO_COLOR (no-color.org: only a non-empty value counts)', tty, {NO_COLOR: ''}, true],
    ['a dumb terminal', tty, {TERM: 'dumb'}, false],
  ]
  for (const [name, stream, env, expected] of cases) {
    it(`${expected ? 'colours' : 'does not colour'} ${name}`, () => assert.equal(colourWanted(stream, env), expected))
  }

  it('paints with 16-colour codes where colour is wanted, and leaves the text alone elsewhere', async () => {
    assert.equal((await paintFor(tty, {})).red('no'), '\u001B[31mno\u001B[39m')
    assert.equal((await paintFor(tty, {NO_COLOR: '1'})).red('no'), 'no')
    assert.equal((await paintFor(pipe, {})).bold('Puma'), 'Puma')
  })
})
