import {strict as assert} from 'node:assert'
import {type ChildProcess, spawn} from 'node:child_process'
import {setTimeout as sleep} from 'node:timers/promises'

import {listFamily, listProcesses, type ProcessEntry} from '../../src/target/process-table.js'
import {killQuietly} from '../helpers/processes.js'

/** A process and its descendants, from the whole table by parent PID. */
function descendantsInTable(table: ProcessEntry[], root: number): ProcessEntry[] {
  const family = table.filter((entry) => entry.pid === root)
  for (let i = 0; i < family.length; i++) family.push(...table.filter((entry) => entry.ppid === family[i].pid))
  return family
}

/** listFamily reads the kernel's children files: checked against the whole table, on real processes. */
describe('listFamily', () => {
  let tree: ChildProcess
  let started: ProcessEntry[] = []
  before(async () => {
    // A shell with two children, one with a child of its own (as fork_worker's workers are worker 0's).
    tree = spawn('sh', ['-c', 'sleep 61 & sh -c "sleep 62 & wait" & wait'], {stdio: 'ignore', detached: true})
    for (let tries = 0; started.length < 4; tries++) {
      if (tries > 100) throw new Error('the process tree did not start')
      await sleep(20)
      started = descendantsInTable(await listProcesses(), tree.pid!)
    }
  })
  after(() => {
    for (const {pid} of [{pid: tree.pid!}, ...started]) killQuietly(pid, 'SIGKILL')
  })

  it('gives the process, its children and grandchildren, as the whole table does', async () => {
    const family = await listFamily(tree.pid!)
    const expected = descendantsInTable(await listProcesses(), tree.pid!)
    assert.deepEqual(family.map((entry) => entry.pid).sort(), expected.map((entry) => entry.pid).sort())
    assert.deepEqual(family.map((entry) => entry.cmd).sort(), ['sh -c sleep 61 & sh -c "sleep 62 & wait" & wait', 'sh -c sleep 62 & wait', 'sleep 61', 'sleep 62'])
  })

  it('stops after the given generations, and is empty for a process that is gone', async () => {
    assert.deepEqual((await listFamily(tree.pid!, 0)).map((entry) => entry.pid), [tree.pid])
    assert.equal((await listFamily(tree.pid!, 1)).length, 3)
    assert.deepEqual(await listFamily(2 ** 22 + 1), [])
  })
})
