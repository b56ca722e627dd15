/** Cancels a timer; calling it after the timer fired does nothing. */
export type Cancel = () => void

/**
 * Time as the waits see it: the current time and one-shot timers. Passed in, so that tests drive
 * a whole wait with a clock they advance by hand instead of waiting for real time.
 */
export interface Clock {
  now(): number
  setTimeout(callback: () => void, ms: number): Cancel
}

/**
 * Node's timers hold at most 2^31-1 ms (24.8 days): a longer one fires after 1 ms, with a warning.
 * Capped, a wait that asks for more (a huge --timeout) wakes early once in 24.8 days and asks again.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, Math.min(ms, MAX_TIMER_MS))
    return () => clearTimeout(timer)
  },
}

/** Waits `ms` on `clock`, or less when `signal` aborts (callers then check `signal.aborted`); never rejects, leaves no listener behind. */
export async function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return
  await new Promise<void>((resolve) => {
    const done = () => {
      cancel()
      signal?.removeEventListener('abort', done)
      resolve()
    }

    const cancel = clock.setTimeout(done, ms)
    signal?.addEventListener('abort', done, {once: true})
  })
}
