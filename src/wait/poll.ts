import {type Cancel, type Clock, realClock} from './clock.js'

export interface PollOptions {
  /** Default: the real clock. */
  clock?: Clock
  /**
   * Give up with 'timed-out' when a look that found nothing ends at or after this time (on the
   * clock's time); the pause before it is cut short so that the last look is at the deadline.
   * Loops with another end condition leave it out and let `look` say so.
   */
  deadline?: number
  /** The pause after a look that found nothing; a function is asked before each pause. */
  intervalMs: (() => number) | number
  /** The first look happens even when `signal` is already aborted. */
  lookOnceIfAborted?: boolean
  /**
   * Ends the polling with 'aborted' before the next look; a pause under way ends at once. The first
   * look is skipped too, unless `lookOnceIfAborted`.
   */
  signal?: AbortSignal
  /** 'look' (default): look at once; 'pause': pause first. */
  start?: 'look' | 'pause'
}

export type PollResult<T> = {status: 'aborted'} | {status: 'done'; value: T} | {status: 'timed-out'}

/**
 * Looks, pauses and looks again until `look` returns something other than undefined, the deadline
 * passes or the signal aborts. `look` may throw: the polling ends with its error. One look at a
 * time: the pause starts when a look has ended. Between looks there is one timer and nothing
 * else (no promise, no listener per pause): cheap enough for a wait of minutes.
 */
export async function pollUntil<T>(
  look: (attempt: number) => Promise<T | undefined> | T | undefined,
  options: PollOptions,
): Promise<PollResult<T>> {
  const {clock = realClock, signal, deadline} = options
  const interval = () => (typeof options.intervalMs === 'number' ? options.intervalMs : options.intervalMs())
  return new Promise<PollResult<T>>((resolve, reject) => {
    let attempt = 0
    let cancelPause: Cancel | undefined
    const end = (result: PollResult<T>) => {
      signal?.removeEventListener('abort', onAbort)
      resolve(result)
    }

    const fail = (error: unknown) => {
      signal?.removeEventListener('abort', onAbort)
      reject(error)
    }

    // A pause ends at once; a look under way is let finish (it sees the signal itself).
    const onAbort = () => {
      if (!cancelPause) return
      cancelPause()
      cancelPause = undefined
      end({status: 'aborted'})
    }

    const pause = () => {
      if (signal?.aborted) return end({status: 'aborted'})
      // The last pause ends at the deadline: a look there, rather than a verdict a whole pause late.
      const pauseMs = deadline === undefined ? interval() : Math.min(interval(), Math.max(0, deadline - clock.now()))
      cancelPause = clock.setTimeout(() => {
        cancelPause = undefined
        lookNow()
      }, pauseMs)
    }

    const judge = (value: T | undefined) => {
      if (value !== undefined) return end({status: 'done', value})
      if (deadline !== undefined && clock.now() >= deadline) return end({status: 'timed-out'})
      pause()
    }

    // A look that answers at once is judged at once: no promise per look in a poll of /proc.
    const lookNow = () => {
      attempt++
      if (signal?.aborted && !(attempt === 1 && options.lookOnceIfAborted)) return end({status: 'aborted'})
      let answer: Promise<T | undefined> | T | undefined
      try {
        answer = look(attempt)
      } catch (error) {
        return fail(error)
      }

      if (answer instanceof Promise) answer.then(judge, fail)
      else judge(answer)
    }

    signal?.addEventListener('abort', onAbort)
    if (options.start === 'pause') pause()
    else lookNow()
  })
}
