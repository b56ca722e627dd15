import {type Clock, realClock, sleep} from './clock.js'

export interface PollOptions {
  /** Default: the real clock. */
  clock?: Clock
  /**
   * Give up with 'timed-out' when a look that found nothing ends at or after this time (on the
   * clock's time). Loops with another end condition leave it out and let `look` say so.
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
 * time: the pause starts when a look has ended.
 */
export async function pollUntil<T>(
  look: (attempt: number) => Promise<T | undefined> | T | undefined,
  options: PollOptions,
): Promise<PollResult<T>> {
  const {clock = realClock, signal, deadline} = options
  const interval = () => (typeof options.intervalMs === 'number' ? options.intervalMs : options.intervalMs())
  /** One look, then the pause before the next: a result, or undefined to go on. */
  const step = async (attempt: number): Promise<PollResult<T> | undefined> => {
    if (signal?.aborted && !(attempt === 1 && options.lookOnceIfAborted)) return {status: 'aborted'}
    const value = await look(attempt)
    if (value !== undefined) return {status: 'done', value}
    if (deadline !== undefined && clock.now() >= deadline) return {status: 'timed-out'}
    await sleep(clock, interval(), signal)
    return undefined
  }

  if (options.start === 'pause') await sleep(clock, interval(), signal)
  for (let attempt = 1; ; attempt++) {
    // eslint-disable-next-line no-await-in-loop -- each look waits for the one before, by design
    const result = await step(attempt)
    if (result) return result
  }
}
