import {strict as assert} from 'node:assert'

import {type BeforeSignal, familyAgrees, KernelWitness, readBeforeSignal} from '../../src/restart/witness.js'
import {classifyFamily, type FamilyEntry, type FamilyMember} from '../../src/target/family.js'
import {FakeKernel} from '../helpers/fake-kernel.js'

const MASTER = 10

const member = (pid: number, serving = true): FamilyMember => ({
  pid,
  worker: true,
  zombie: false,
  serving,
})

const entry = (pid: number, ppid: number, cmd: string, more: Partial<FamilyEntry> = {}): FamilyEntry => ({
  pid,
  ppid,
  cmd,
  comm: 'puma',
  zombie: false,
  ...more,
})

function witnessOver(kernel: FakeKernel): KernelWitness {
  return new KernelWitness(readBeforeSignal(MASTER, kernel) as BeforeSignal, kernel)
}

describe('the kernel as witness', () => {
  it('tells old, new, gone and strangers apart; a gone PID counts only once the kernel showed it as a new worker', () => {
    const kernel = new FakeKernel(MASTER, [{pid: 11, index: 0}])
    const witness = witnessOver(kernel)
    kernel.fork(105, 1)
    kernel.fork(106, 2)
    kernel.stranger(107)
    assert.equal(witness.of(11).standing, 'old')
    assert.deepEqual(witness.of(105), {standing: 'new', index: 1})
    assert.equal(witness.of(107).standing, 'stranger')
    witness.look() // the wait's periodic look sees 106 alive
    kernel.exit(105)
    kernel.exit(106)
    kernel.exit(107)
    assert.equal(witness.of(105).standing, 'gone-new', 'seen alive when its line was read before')
    assert.equal(witness.of(106).standing, 'gone-new', 'seen alive by a look')
    assert.equal(witness.of(107).standing, 'stranger', 'gone, and never a worker of the master')
    assert.equal(witness.of(108).standing, 'stranger', 'any other PID, gone or never there')
    kernel.exit(11)
    assert.equal(witness.of(11).standing, 'gone-old')
  })

  it("fork_worker: worker 0's children are the master's workers; a worker's own fork (same title) is not", () => {
    const kernel = new FakeKernel(MASTER, [
      {pid: 11, index: 0},
      {pid: 12, index: 1},
    ])
    const witness = witnessOver(kernel)
    kernel.fork(120, 2, {ppid: 11})
    kernel.fork(121, 1, {ppid: 12})
    assert.equal(witness.of(120).standing, 'new')
    assert.equal(witness.of(121).standing, 'stranger')
    const workers = kernel
      .family(MASTER)!
      .filter((m) => m.worker)
      .map((m) => m.pid)
    assert.deepEqual(workers.sort(), [11, 12, 120])
  })

  it('single mode: the master serves again only once a server thread it did not have at the signal runs', () => {
    const kernel = new FakeKernel(MASTER, [])
    const witness = witnessOver(kernel)
    assert.equal(witness.of(MASTER).serving, false, 'its server threads are from before the signal')
    kernel.reexec()
    assert.equal(witness.of(MASTER).serving, false, 're-executed, still loading the app: no puma thread at all yet')
    kernel.boot(MASTER)
    assert.equal(witness.of(MASTER).serving, true)
  })

  it('which processes below a master are its workers', () => {
    const members = classifyFamily(
      [
        entry(11, MASTER, `puma: cluster worker 0: ${MASTER} [app]`),
        entry(12, MASTER, '', {zombie: true}), // a worker killed a moment ago
        entry(13, MASTER, '', {zombie: true, comm: 'true'}), // a helper the app spawned, not reaped by Puma
        entry(14, MASTER, 'sidekiq 7.0'), // another child of the master
        entry(15, 11, `puma: cluster worker 0: ${MASTER} [app]`), // worker 0's own fork, same title
        entry(16, 11, `puma: cluster worker 2: ${MASTER} [app]`), // fork_worker
        entry(17, MASTER, 'puma: cluster worker 1: 99 [other]'), // another master's title
      ],
      MASTER,
      'puma',
    )
    assert.deepEqual(
      members.filter((m) => m.worker).map((m) => m.pid),
      [11, 12, 16],
    )
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
    assert.deepEqual(familyAgrees([{...member(5), worker: false}], [], []).unexpected, [], 'no worker')
  })
})
