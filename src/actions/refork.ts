import {usageError} from '../errors.js'
import {type Reach} from '../target/reach.js'
import {deliver, type Delivery, type Via} from './deliver.js'

/**
 * Refork (fork_worker, Puma 5+): workers 1.. are re-forked from worker 0. Puma ignores SIGURG
 * without fork_worker, and the control app answers 404; ctl cannot see fork_worker from outside.
 */
export async function refork(to: Reach, via: Via, signal?: AbortSignal): Promise<Delivery> {
  if (via === 'signal' && to.kind === 'master' && to.target.master.workers.length === 0) {
    throw usageError(
      `refusing: pid ${to.target.master.pid} runs in single mode (no workers), where refork does not exist`,
    )
  }

  const delivery = await deliver('refork', to, {via, signal})
  if (via === 'signal') delivery.warnings.push('Puma ignores SIGURG unless fork_worker is configured')
  return delivery
}
