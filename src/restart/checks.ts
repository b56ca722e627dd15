import {realpathSync} from 'node:fs'
import {request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'

import {CtlError, usageError} from '../errors.js'
import {AnswerBytes, MAX_ANSWER_TEXT} from '../net/answer.js'
import {type ProcessDetails, readEnvironment, readProcessDetails} from '../target/process-table.js'
import {excerpt} from '../text/excerpt.js'
import {shownUrl} from '../text/untrusted.js'
import {type Clock, realClock} from '../wait/clock.js'
import {pollUntil} from '../wait/poll.js'

/**
 * After a restart has finished, the new workers must run the release the deploy meant: their
 * working folder (/proc/PID/cwd, already resolved) must be where `expectDir` (e.g. /app/current)
 * points now. A phased restart in the old folder reloads the old code and still "succeeds".
 */
export function checkReleaseDir(
  pids: number[],
  expectDir: string,
  read: (pid: number) => Pick<ProcessDetails, 'cwd'> | undefined = readProcessDetails,
): void {
  const wanted = resolveDir(expectDir)
  const elsewhere = new Map<string, number[]>()
  for (const pid of pids) {
    const cwd = read(pid)?.cwd
    if (cwd !== undefined && cwd !== wanted) elsewhere.set(cwd, [...(elsewhere.get(cwd) ?? []), pid])
  }

  if (elsewhere.size > 0) {
    const folders = [...elsewhere.keys()].join(', ')
    throw new CtlError('checkFailed', `workers still run ${folders} but ${expectDir} points to ${wanted}`, {
      details: [...elsewhere].map(([folder, workerPids]) => `  ${folder}: pid ${workerPids.join(', ')}`),
      suggestion:
        "Puma's restart folder is the old release: set `directory '" +
        expectDir +
        "'` in Puma's config (or start Puma from " +
        expectDir +
        '), then restart once more',
      data: {expected: wanted, found: Object.fromEntries(elsewhere)},
    })
  }
}

/**
 * Before a phased restart: the classic pitfall. Puma (3.2+) reloads workers in its restart folder,
 * its `directory` option or else $PWD as the master saw it at start. A master started inside a
 * resolved release folder (cd releases/2026…, not through the `current` symlink) keeps reloading
 * that old release. Visible from outside: the master's PWD environment variable.
 */
export function releaseFolderWarning(
  master: ProcessDetails,
  expectDir?: string,
  environment: (pid: number) => Record<string, string> = environmentOf,
): string | undefined {
  const pwd = environment(master.pid).PWD
  const {cwd} = master
  if (!pwd || !cwd) return undefined
  if (expectDir !== undefined) {
    const wanted = resolveDirOrUndefined(expectDir)
    if (pwd.replace(/\/$/, '') !== expectDir.replace(/\/$/, '') && cwd !== wanted) {
      return `Puma was started in ${pwd}, not through ${expectDir}: unless its config sets \`directory '${expectDir}'\`, a phased restart reloads ${cwd}. Start Puma from ${expectDir}, or set \`directory\``
    }

    return undefined
  }

  // Without --expect-dir, a resolved Capistrano-style release folder is the tell.
  if (/\/releases\/[^/]+\/?$/.test(pwd)) {
    return `Puma was started in the release folder ${pwd} (not through a \`current\` symlink): unless its config sets \`directory\`, a phased restart reloads this release's code. Start Puma from the symlink, or set \`directory '/path/to/current'\``
  }

  return undefined
}

/** A process's environment variables, from /proc/PID/environ; empty when unreadable. */
export function environmentOf(pid: number): Record<string, string> {
  return readEnvironment(pid) ?? {} // another user's process
}

export function resolveDir(path: string): string {
  const resolved = resolveDirOrUndefined(path)
  if (resolved === undefined) throw usageError(`--expect-dir ${path} does not exist`)
  return resolved
}

function resolveDirOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path)
  } catch {
    return undefined
  }
}

export interface HealthOptions {
  /** Default: the real clock. */
  clock?: Clock
  signal?: AbortSignal
  timeoutMs: number
}

/** Pause between health check attempts. */
const HEALTH_RETRY_MS = 250

export interface HealthResult {
  attempts: number
  durationMs: number
  status: number
  url: string
}

export function validateHealthUrl(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw usageError(`--health-url ${JSON.stringify(url)} is not a URL`)
  }

  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw usageError(`--health-url ${shownUrl(url)}: only http:// and https:// are probed`)
}

/**
 * The restarted app must answer 2xx at `url` within the bound, the whole answer (headers and body)
 * included; retried until then (workers may still warm up). An answer larger than MAX_ANSWER_BYTES
 * fails at once.
 */
export async function probeHealth(url: string, options: HealthOptions): Promise<HealthResult> {
  const {clock = realClock, signal} = options
  const started = clock.now()
  const deadline = started + options.timeoutMs
  let attempts = 0
  let last = 'no answer'
  // Gives up rather than pausing past the deadline: the look says so itself.
  const polled = await pollUntil(
    async () => {
      attempts++
      try {
        const answer = await get(url, {timeoutMs: Math.max(1, deadline - clock.now()), clock, signal})
        if (answer.status >= 200 && answer.status < 300)
          return {url, status: answer.status, attempts, durationMs: clock.now() - started}
        last = `HTTP ${answer.status}: ${excerpt(answer.body, 200)}`
      } catch (error) {
        if (error instanceof CtlError) throw error
        last = (error as Error).message
      }

      return clock.now() + HEALTH_RETRY_MS >= deadline ? 'gave up' : undefined
    },
    {clock, intervalMs: HEALTH_RETRY_MS, signal},
  )
  if (polled.status === 'done' && polled.value !== 'gave up') return polled.value
  if (signal?.aborted)
    throw new CtlError('interrupted', `interrupted during the health check of ${url} (the restart itself had finished)`)
  throw new CtlError(
    'checkFailed',
    `health check ${url} failed after the restart: ${last} (${attempts} attempts in ${((clock.now() - started) / 1000).toFixed(1)} s)`,
    {
      data: {url, attempts, last},
    },
  )
}

/**
 * One attempt: the status and the body, all of it within `timeoutMs` (an idle timeout would let a
 * server that trickles a byte a second hold the check for ever). An answer larger than
 * MAX_ANSWER_BYTES is a failed check at once: not a health endpoint, or a broken one.
 */
function get(
  url: string,
  {clock, signal, timeoutMs}: {clock: Clock; signal?: AbortSignal; timeoutMs: number},
): Promise<{body: string; status: number}> {
  return new Promise((resolve, reject) => {
    let status: number | undefined // once the headers are in
    const request = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, {signal}, (response) => {
      status = response.statusCode ?? 0
      const body = new AnswerBytes()
      response.on('data', (chunk: Buffer) => {
        if (!body.add(chunk))
          request.destroy(
            new CtlError(
              'checkFailed',
              `health check ${url} failed after the restart: it sent more than ${MAX_ANSWER_TEXT}: not a health check, or broken`,
              {data: {url}},
            ),
          )
      })
      response.on('end', () => {
        cancel()
        resolve({status: status!, body: body.text()})
      })
      response.on('error', reject) // cut off: the request's own error (the deadline, the cap) came first
    })
    const within = `within ${(timeoutMs / 1000).toFixed(1)} s`
    const cancel = clock.setTimeout(() => {
      const what = status === undefined ? `no answer ${within}` : `HTTP ${status}, but the body did not end ${within}`
      request.destroy(new Error(what))
    }, timeoutMs)
    request.on('close', cancel)
    request.on('error', reject)
    request.end()
  })
}
