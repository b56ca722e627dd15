import {setTimeout as sleep} from 'node:timers/promises'

/** Waits `ms`, or less when `signal` aborts (callers then check `signal.aborted`); never rejects, leaves no listener behind. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, undefined, {signal}).catch(() => {})
}
