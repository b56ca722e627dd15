import {type Clock, realClock} from '../wait/clock.js'
import {pollUntil} from '../wait/poll.js'
import {readStat} from './process-table.js'

const EXIT_POLL_MS = 50

export type Kill = (pid: number, signal: 0 | NodeJS.Signals) => void

export type Liveness = 'alive' | 'gone' | 'not-permitted'

/** kill(pid, 0) plus a zombie check: a master killed while its parent has not reaped it is gone. */
export function liveness(pid: number, kill: Kill = process.kill.bind(process)): Liveness {
  try {
    kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'not-permitted' : 'gone'
  }

  if (process.platform !== 'linux') return 'alive'
  const stat = readStat(pid)
  return !stat || stat.state === 'Z' ? 'gone' : 'alive'
}

/** The process's start time in clock ticks: with the PID, it names one process even across PID reuse. */
export function startTicks(pid: number): number | undefined {
  return readStat(pid)?.startTicks
}

/**
 * Whether the process that started at `identity` (startTicks) has exited: gone, a zombie, or its
 * PID now naming another process. One read of /proc/PID/stat, cheap enough to poll.
 */
export function hasExited(pid: number, identity: number | undefined): boolean {
  if (process.platform !== 'linux') return liveness(pid) === 'gone'
  const stat = readStat(pid)
  return !stat || stat.state === 'Z' || (identity !== undefined && stat.startTicks !== identity)
}

/**
 * Resolves when the process has exited (or its PID now names another process), or after
 * `timeoutMs` with false. A process that is not our child cannot be awaited by any event Node
 * offers, so this polls every 50 ms (microseconds of CPU per poll), and once more at the deadline.
 */
export async function waitForExit(
  pid: number,
  options: {
    clock?: Clock
    /** The start time ctl verified: read now instead, a PID reused since the signal would be waited for. */
    identity?: number
    signal?: AbortSignal
    timeoutMs: number
  },
): Promise<boolean> {
  const {clock = realClock, signal} = options
  const identity = options.identity ?? startTicks(pid)
  const deadline = clock.now() + options.timeoutMs
  const polled = await pollUntil(() => (hasExited(pid, identity) ? true : undefined), {
    clock,
    signal,
    deadline,
    intervalMs: EXIT_POLL_MS,
    lookOnceIfAborted: true,
  })
  return polled.status === 'done'
}
