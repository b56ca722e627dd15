import {strict as assert} from 'node:assert'
import {spawn} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {createInterface} from 'node:readline'

import {CtlError} from '../../src/errors.js'
import {listProcesses, readFamily} from '../../src/target/process-table.js'
import {verifyMaster} from '../../src/target/verify.js'
import {killQuietly} from '../helpers/processes.js'

/**
 * A stand-in Puma master with Puma's titles and two workers: both its children (Puma's own
 * forking), or worker 1 orphaned (fork_worker after worker 0's first child died). Prints every PID
 * it starts, then "ready".
 */
const FAKE_MASTER = `
master = Process.pid
$0 = "puma 5.6.5 (tcp://127.0.0.1:1) [family]"
titled_r, titled_w = IO.pipe # each worker says when its title is set: "ready" means titled
puts(fork { $0 = "puma: cluster worker 0: #{master} [family]"; titled_w.write("."); sleep })
if ARGV[0] == "orphan"
  middle = fork { puts(fork { $0 = "puma: cluster worker 1: #{master} [family]"; titled_w.write("."); sleep }); $stdout.flush; exit! }
  Process.wait(middle)
else
  puts(fork { $0 = "puma: cluster worker 1: #{master} [family]"; titled_w.write("."); sleep })
end
titled_r.read(2)
Thread.new { sleep }
puts "ready"
$stdout.flush
sleep
`

async function startFakeMaster(layout: 'children' | 'orphan'): Promise<{master: number; pids: number[]}> {
  const child = spawn('ruby', ['-e', FAKE_MASTER, layout], {stdio: ['ignore', 'pipe', 'inherit']})
  const pids = [child.pid!]
  for await (const line of createInterface({input: child.stdout!})) {
    if (line === 'ready') break
    pids.push(Number(line))
  }

  started.push(...pids)
  return {master: child.pid!, pids}
}

const started: number[] = []

describe('a master and its workers, from its family or the whole table', function () {
  this.timeout(20_000)

  after(() => {
    for (const pid of started) killQuietly(pid, 'SIGKILL')
  })

  it('a master that forks its workers: its family holds them, as the whole table does', async () => {
    const {master, pids} = await startFakeMaster('children')
    const family = readFamily(master)!
    assert.deepEqual(family.map((entry) => entry.pid).sort(), [...pids].sort())
    const verified = await verifyMaster(master, '--pid')
    assert.deepEqual(
      verified.workers.map((worker) => [worker.index, worker.pid]),
      [
        [0, pids[1]],
        [1, pids[2]],
      ],
    )
    const fromTable = await verifyMaster(master, '--pid', {listProcesses})
    assert.deepEqual(verified.workers, fromTable.workers)
  })

  it("fork_worker's orphaned worker 1 is not in the family, but is among the master's workers", async () => {
    const {master, pids} = await startFakeMaster('orphan')
    const orphan = pids[2]
    assert.ok(!readFamily(master)!.some((entry) => entry.pid === orphan))
    const verified = await verifyMaster(master, '--pid')
    assert.deepEqual(
      verified.workers.map((worker) => [worker.index, worker.pid]),
      [
        [0, pids[1]],
        [1, orphan],
      ],
    )
  })

  it("a thread's ID is no process: no family, and refused naming the process", async () => {
    const {master} = await startFakeMaster('children')
    const thread = Number(readdirSync(`/proc/${master}/task`).find((tid) => Number(tid) !== master))
    assert.ok(thread > 0, 'the fake master runs a second thread')
    assert.equal(readFamily(thread), undefined)
    await assert.rejects(
      verifyMaster(thread, '--pid'),
      (error) =>
        error instanceof CtlError &&
        error.exitCode === 3 &&
        error.message === `--pid: ${thread} is a thread of process ${master}, not a process`,
    )
  })

  it('no family for a PID that is gone', () => {
    assert.equal(readFamily(2 ** 22 + 1), undefined)
  })
})
