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

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms)
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
