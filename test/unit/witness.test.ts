import {strict as assert} from 'node:assert'

import {type BeforeSignal, familyAgrees, forkedSince, witness} from '../../src/restart/witness.js'
import {type FamilyMember} from '../../src/target/family.js'
import {FakeKernel} from '../helpers/fake-kernel.js'

const member = (pid: number, serving = true): FamilyMember => ({pid, ppid: 10, worker: true, zombie: false, serving})

describe('witness', () => {
  const before: BeforeSignal = {
    masterPid: 10,
    family: [{pid: 11, ppid: 10, worker: true, zombie: false, index: 0}],
    lastPid: 100,
    masterTids: [10, 12],
    masterUid: 1000,
  }

  it('tells new, old, gone and strangers apart', () => {
    const kernel = new FakeKernel(10, [{pid: 11, index: 0}])
    kernel.fork(105, 1)
    kernel.stranger(106)
    assert.equal(witness(11, before, kernel).standing, 'old')
    assert.deepEqual(witness(105, before, kernel), {standing: 'new', index: 1})
    assert.equal(witness(106, before, kernel).standing, 'stranger')
    assert.equal(witness(104, before, kernel).standing, 'gone-new', 'handed out since the signal')
    assert.equal(witness(99, before, kernel).standing, 'stranger', 'gone, and older than the signal')
    assert.equal(witness(5000, before, kernel).standing, 'stranger', 'never handed out')
    kernel.exit(11)
    assert.equal(witness(11, before, kernel).standing, 'gone-old')
  })

  it("a fork_worker child of worker 0 is the master's", () => {
    const kernel = new FakeKernel(10, [{pid: 11, index: 0}])
    kernel.fork(107, 1, {ppid: 11})
    assert.equal(witness(107, before, kernel).standing, 'new')
  })

  it("the master serves again once a server thread it did not have at the signal runs (single mode's re-exec)", () => {
    const kernel = new FakeKernel(10, [])
    assert.equal(witness(10, before, kernel).serving, false)
    kernel.boot(10)
    assert.equal(witness(10, before, kernel).serving, true)
  })

  it('PIDs handed out since a reading, across the wrap at pid_max', () => {
    assert.ok(forkedSince(101, 100, 110))
    assert.ok(!forkedSince(100, 100, 110))
    assert.ok(!forkedSince(111, 100, 110))
    assert.ok(forkedSince(32_000, 31_990, 20), 'before the wrap')
    assert.ok(forkedSince(15, 31_990, 20), 'after the wrap')
    assert.ok(!forkedSince(500, 31_990, 20))
    assert.ok(forkedSince(5, undefined, 20), 'cannot tell: not denied')
  })

  it('the family agrees when every counted worker lives and serves, and no other worker runs', () => {
    assert.deepEqual(familyAgrees([member(1), member(2)], [1, 2], []), {missing: [], unexpected: []})
    assert.deepEqual(familyAgrees([member(1)], [1, 2], []).missing, [2])
    assert.deepEqual(
      familyAgrees([member(1), member(3)], [1], []).unexpected.map((m) => m.pid),
      [3],
    )
    assert.deepEqual(familyAgrees([member(1), member(3)], [1], [3]).unexpected, [], 'refork keeps worker 0')
    assert.deepEqual(
      familyAgrees([member(1, false)], [1], []).unexpected.map((m) => m.pid),
      [1],
      'not serving yet',
    )
    assert.deepEqual(familyAgrees([{...member(4), zombie: true}], [], []).unexpected, [], 'a zombie runs nothing')
  })
})
