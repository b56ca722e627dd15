import {strict as assert} from 'node:assert'

import {changeWorkerCount} from '../../src/actions/worker-count.js'
import {CtlError, EXIT} from '../../src/errors.js'
import {type FamilyMember} from '../../src/target/family.js'
import {type Target} from '../../src/target/find.js'

/** A master whose title-scan found `titled` workers (any local user can forge such a title). */
const targetWith = (titled: number): Target => ({
  origin: 'test',
  master: {
    pid: 4321,
    cmd: 'puma 5.6.5 (tcp://127.0.0.1:9292) [app]',
    binds: [],
    workers: Array.from({length: titled}, (_, index) => ({index, pid: 5000 + index})),
  },
})

const member = (pid: number, worker: boolean, zombie = false): FamilyMember => ({pid, worker, zombie})

const refused = (target: Target, direction: 'down' | 'up', family: () => FamilyMember[] | undefined, message: RegExp) =>
  assert.throws(
    () => changeWorkerCount(target, direction, family),
    (error: unknown) => error instanceof CtlError && error.exitCode === EXIT.usage && message.test(error.message),
  )

describe("changeWorkerCount counts the master's own children, not titles", () => {
  it('single mode with a forged worker title elsewhere: refused as single mode (the kernel shows no worker child)', () => {
    refused(targetWith(1), 'up', () => [], /^refusing: pid 4321 runs in single mode \(no workers\), where SIGTTIN/)
    // A child that is not a worker (an app's own fork) and a zombie worker do not count either.
    refused(targetWith(2), 'up', () => [member(6000, false), member(6001, true, true)], /runs in single mode/)
  })

  it('one real worker among forged titles: worker-count-down is refused (Puma never goes below 1)', () => {
    refused(
      targetWith(3),
      'down',
      () => [member(5000, true)],
      /^refusing: pid 4321 runs 1 worker, and Puma never goes below 1$/,
    )
  })

  it('where the kernel cannot be asked (not Linux), the titles decide', () => {
    refused(targetWith(0), 'down', () => undefined, /runs in single mode \(no workers\), where SIGTTOU/)
  })
})
