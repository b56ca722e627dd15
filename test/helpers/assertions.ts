import {strict as assert} from 'node:assert'

import {CtlError} from '../../src/errors.js'

/** What `promise` rejects with, which must be ctl's own error (with its exit code). */
export async function rejection(promise: Promise<unknown>): Promise<CtlError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof CtlError, `expected a CtlError, got ${error}`)
    return error
  }

  assert.fail('expected a rejection')
}
