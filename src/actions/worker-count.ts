import {usageError} from '../errors.js'
import {sendSignal} from '../signals.js'
import {type Target} from '../target/find.js'

export interface WorkerCountResult {
  pid: number
  signal: NodeJS.Signals
  workersBefore: number
}

/** TTIN/TTOU change the worker count in cluster mode; in single mode Puma does not trap them and they suspend it. */
export function changeWorkerCount(target: Target, direction: 'down' | 'up'): WorkerCountResult {
  const {pid, workers} = target.master
  if (workers.length === 0) {
    throw usageError(
      `refusing: pid ${pid} runs in single mode (no workers), where SIGTT${direction === 'up' ? 'IN' : 'OU'} would suspend Puma instead of changing the worker count`,
    )
  }

  if (direction === 'down' && workers.length === 1) {
    throw usageError(`refusing: pid ${pid} runs 1 worker, and Puma never goes below 1`)
  }

  return {
    pid,
    signal: sendSignal(target.master, direction === 'up' ? 'worker-count-up' : 'worker-count-down'),
    workersBefore: workers.length,
  }
}
