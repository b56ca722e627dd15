import {realpathSync} from 'node:fs'

import {type FollowOptions, type LogPosition} from '../log/follow.js'
import {locateLogs} from '../log/locate.js'
import {readLogWindow, tail} from '../log/window.js'
import {type ProcessDetails} from '../target/process-table.js'
import {type Clock} from '../wait/clock.js'
import {Inbox} from '../wait/inbox.js'
import {pollUntil} from '../wait/poll.js'

/** How often a start looks where the master's stdout and stderr point: two readlinks. */
const REDIRECT_POLL_MS = 100

/** How much of a redirect target's end is read for Puma's startup mark: never the whole file. */
const TAIL_BYTES = 256 * 1024

/** Ruby's Time#to_s, as Puma writes it when it redirects: "=== puma startup: 2026-11-23 16:28:42 +0000 ===". */
const STARTUP_MARK = /^=== puma startup: (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) ([+-]\d\d)(\d\d) ===/

/** /proc's and the mark's times have one-second resolution. */
const CLOCK_SLACK_MS = 2000

export interface StartLogDeps {
  clock: Clock
  followLog(path: string, options: FollowOptions): AsyncIterable<string>
  logEnd(path: string): Promise<LogPosition>
  readProcessDetails(pid: number): ProcessDetails | undefined
}

/**
 * The lines of a Puma ctl has just started: its log (ctl gave it the file as stdout and stderr),
 * and, once the config's stdout_redirect has moved them, the files the master's stdout and stderr
 * point to (Puma prints its banner first, then redirects, then boots its workers). A redirect
 * target is read from Puma's "=== puma startup" mark written since the spawn, else from where it
 * ends when found.
 *
 * @yields each line, in the order the files get them
 */
export async function* followStartLogs(
  source: {
    from: LogPosition
    logPath: string
    /** Told each redirect target as it is found. */
    onRedirect?: (path: string) => void
    pid: number
    signal: AbortSignal
    spawnedAt: number
  },
  deps: StartLogDeps,
): AsyncGenerator<string> {
  const {logPath, pid, signal} = source
  const lines = new Inbox<string>()
  let failure: unknown
  const pump = async (from: AsyncIterable<string>) => {
    try {
      for await (const line of from) lines.push(line)
    } catch (error) {
      failure ??= error
      lines.close()
    }
  }

  const followed = new Set([physical(logPath)])
  const pumps = [pump(deps.followLog(logPath, {from: source.from, signal}))]
  const watching = pollUntil(
    async () => {
      const redirected = locateLogs(deps.readProcessDetails(pid), undefined).filter(
        (log) => !followed.has(physical(log.path)),
      )
      for (const {path} of redirected) {
        followed.add(physical(path))
        source.onRedirect?.(path)
        // eslint-disable-next-line no-await-in-loop -- at most two files, each found once
        const from = (await startupMark(path, source.spawnedAt)) ?? (await deps.logEnd(path))
        pumps.push(pump(deps.followLog(path, {from, signal})))
      }

      return undefined
    },
    {clock: deps.clock, intervalMs: REDIRECT_POLL_MS, signal, start: 'pause'},
  ).catch((error: unknown) => {
    failure ??= error
    lines.close()
  })
  const close = () => lines.close()
  signal.addEventListener('abort', close, {once: true})
  try {
    for await (const line of lines) yield line
  } finally {
    signal.removeEventListener('abort', close)
    await Promise.allSettled([watching, ...pumps])
  }

  if (failure) throw failure
}

/**
 * Where Puma's first startup mark since `since` (ms) is in the last TAIL_BYTES of `path`, as a
 * position to follow from; undefined when there is none (or the file cannot be read).
 */
export async function startupMark(path: string, since: number): Promise<LogPosition | undefined> {
  const window = await readLogWindow(path, tail(TAIL_BYTES))
  if (!window) return undefined
  let offset = window.start
  for (const line of window.bytes.toString('latin1').split('\n')) {
    const mark = STARTUP_MARK.exec(line)
    if (mark && Date.parse(`${mark[1]}T${mark[2]}${mark[3]}:${mark[4]}`) + CLOCK_SLACK_MS >= since)
      return {dev: window.dev, ino: window.ino, offset}
    offset += line.length + 1
  }

  return undefined
}

function physical(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}
