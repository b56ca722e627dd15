import {strict as assert} from 'node:assert'

import {colourWanted} from '../../src/render/colour.js'

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
})
