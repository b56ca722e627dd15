import {request} from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'

/**
 * What clients see during a deploy: one HTTP GET at a time against the app, counted, until the test
 * stops the loop. For the deploy-recipe tests (issue 15): "a bounded request loop saw no failure".
 */

export interface Answer {
  body: string
  status: number
}

/** One GET of `url` (http only), with a deadline for the whole answer. */
export async function httpGet(url: string, timeoutMs = 2000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {agent: false, timeout: timeoutMs}, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk) => {
        body += chunk
      })
      response.on('end', () => resolve({body, status: response.statusCode ?? 0}))
      response.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

export interface LoopResult {
  /** How often each body was answered (2xx only): which releases served during the loop. */
  answers: Record<string, number>
  failed: number
  /** The first few failures, for the assertion message. */
  failures: string[]
  sent: number
}

export interface RequestLoop {
  /** Ends the loop after the request under way and resolves with what it saw. */
  stop(): Promise<LoopResult>
}

const FAILURES_KEPT = 5

/**
 * GETs `url` one request at a time, `intervalMs` apart (a pace, so that the loop does not starve the
 * deploy of CPU), until stop() or `max` requests: bounded even when a test fails before stopping it.
 * A failure is a connection error, a timeout or an answer other than 2xx.
 */
export function startRequestLoop(
  url: string,
  options: {intervalMs?: number; max?: number; timeoutMs?: number} = {},
): RequestLoop {
  const {intervalMs = 20, max = 10_000, timeoutMs = 2000} = options
  const result: LoopResult = {answers: {}, failed: 0, failures: [], sent: 0}
  const stopping = new AbortController()
  const fail = (why: string) => {
    result.failed++
    if (result.failures.length < FAILURES_KEPT) result.failures.push(`request ${result.sent}: ${why}`)
  }

  const loop = (async () => {
    while (!stopping.signal.aborted && result.sent < max) {
      result.sent++
      try {
        // eslint-disable-next-line no-await-in-loop -- one request at a time, as one client would send them
        const {body, status} = await httpGet(url, timeoutMs)
        if (status >= 200 && status < 300) result.answers[body] = (result.answers[body] ?? 0) + 1
        else fail(`HTTP ${status}: ${body.slice(0, 200)}`)
      } catch (error) {
        fail((error as Error).message)
      }

      await sleep(intervalMs) // eslint-disable-line no-await-in-loop
    }
  })()

  return {
    async stop() {
      stopping.abort()
      await loop
      return result
    },
  }
}
