import {usageError} from '../errors.js'
import {sendSignal} from '../signals.js'
import {type FamilyMember, readFamilyMembers} from '../target/family.js'
import {type Target} from '../target/find.js'

export interface WorkerCountResult {
  pid: number
  signal: NodeJS.Signals
  workersBefore: number
}

/**
 * TTIN/TTOU change the worker count in cluster mode; in single mode Puma does not trap them and they
 * suspend it. The workers are counted among the master's own children (family.ts), not by title: any
 * local user can title a process `puma: cluster worker 0: PID` and make single mode look like a cluster.
 * `family` is undefined where the kernel cannot be asked (not Linux): the titles decide then.
 */
export function changeWorkerCount(
  target: Target,
  direction: 'down' | 'up',
  family: (pid: number) => FamilyMember[] | undefined = readFamilyMembers,
): WorkerCountResult {
  const {pid} = target.master
  const workers =
    family(pid)?.filter((member) => member.worker && !member.zombie).length ?? target.master.workers.length
  if (workers === 0) {
    throw usageError(
      `refusing: pid ${pid} runs in single mode (no workers), where SIGTT${direction === 'up' ? 'IN' : 'OU'} would suspend Puma instead of changing the worker count`,
    )
  }

  if (direction === 'down' && workers === 1) {
    throw usageError(`refusing: pid ${pid} runs 1 worker, and Puma never goes below 1`)
  }

  return {
    pid,
    signal: sendSignal(target.master, direction === 'up' ? 'worker-count-up' : 'worker-count-down'),
    workersBefore: workers,
  }
}
