import {readdirSync, readFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'

/**
 * Process and file utilities shared by the test helpers (real Puma clusters, fake Pumas) and the
 * integration tests. Everything here finds processes by PID or /proc title and signals them by PID only:
 * other Pumas on this machine are not ours.
 */

/** A free TCP port on 127.0.0.1, as the kernel hands one out (closed again before it is returned). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

/** A file's bytes; empty if it is not there (not written yet, or already removed). */
export function bytesOf(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch {
    return Buffer.alloc(0)
  }
}

/** A file's text (utf8); '' if it is not there. */
export function readOrEmpty(path: string): string {
  return bytesOf(path).toString('utf8')
}

/** A process's title as `ps` would show it (/proc/PID/cmdline, NULs as spaces, trimmed); '' if it is gone or a zombie. */
export function titleOf(pid: number): string {
  return readOrEmpty(`/proc/${pid}/cmdline`).replaceAll('\0', ' ').trim()
}

/** Matches a worker title of `masterPid`: `puma: cluster worker: M` (2.0-2.7) or `puma: cluster worker I: M [tag]`. */
export function isWorkerOf(masterPid: number, title: string): null | RegExpMatchArray {
  return title.match(new RegExp(`^puma: cluster worker(?: (\\d+))?: ${masterPid}(?: \\[.*\\])?$`))
}

/** Workers of a master found by their titles in /proc, in index order (PID order where titles carry no index). */
export function workerPidsOf(masterPid: number): number[] {
  const found: Array<{index: number; pid: number}> = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const match = isWorkerOf(masterPid, titleOf(Number(entry)))
    if (match) found.push({index: match[1] === undefined ? -1 : Number(match[1]), pid: Number(entry)})
  }

  return found.sort((a, b) => a.index - b.index || a.pid - b.pid).map((w) => w.pid)
}

/** Alive: signal 0 reaches it (or is refused with EPERM: it exists, just not ours), and it is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }

  // a zombie (killed, not yet reaped by its parent) is not alive
  return !/^\d+ \(.*\) Z/.test(readOrEmpty(`/proc/${pid}/stat`))
}

/** Sends `signal` to one process, ignoring errors. Never to pid <= 1 or a non-integer: kill(0)/kill(-1) would hit process groups. */
export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  if (!Number.isSafeInteger(pid) || pid <= 1) return // never the group, never init
  try {
    process.kill(pid, signal)
  } catch {}
}

/** Test-side waiting for an outside process: polls every 20 ms, with a deadline and a useful failure message. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: () => string = () => 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what()}`)
    await sleep(20) // eslint-disable-line no-await-in-loop
  }
}

/**
 * For a mocha suite: wraps a start function so that everything it starts is stopped, by its own
 * stop(), after each test (`afterEach`) or after the suite (`after`), also when a test fails.
 */
export function stoppedAfter<A extends unknown[], T extends {stop(): Promise<void>}>(
  hook: 'after' | 'afterEach',
  start: (...args: A) => Promise<T>,
): (...args: A) => Promise<T> {
  const started: T[] = []
  const register = hook === 'after' ? after : afterEach
  register(async () => {
    await Promise.all(started.splice(0).map((each) => each.stop()))
  })
  return async (...args: A) => {
    const each = await start(...args)
    started.push(each)
    return each
  }
}
