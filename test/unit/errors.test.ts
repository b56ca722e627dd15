import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {CtlError, EXIT, noMasterError, notPermittedError, usageError} from '../../src/errors.js'
import {projectRoot} from '../helpers/paths.js'

describe('exit codes', () => {
  it('README documents exactly the exit-code table', () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## Exit codes'))
    const documented = [...section.matchAll(/^\| (\d+) \| /gm)].map((match) => Number(match[1]))
    assert.deepEqual(documented, Object.values(EXIT))
  })

  it('codes are distinct', () => assert.equal(new Set(Object.values(EXIT)).size, Object.values(EXIT).length))

  const factories: Array<[string, (message: string) => CtlError, number]> = [
    ['usageError', usageError, 2],
    ['noMasterError', noMasterError, 3],
    ['notPermittedError', notPermittedError, 4],
  ]
  for (const [name, factory, code] of factories) {
    it(`${name} carries exit code ${code}`, () => {
      const error = factory('x')
      assert.ok(error instanceof CtlError)
      assert.equal(error.exitCode, code)
    })
  }
})
