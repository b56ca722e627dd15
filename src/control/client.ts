import {connect, type Socket} from 'node:net'

import {CtlError, noMasterError, notPermittedError, usageError} from '../errors.js'
import {AnswerBytes, MAX_ANSWER_BYTES, MAX_ANSWER_TEXT} from '../net/answer.js'
import {excerpt} from '../text/excerpt.js'
import {redactToken, shownUrl} from '../text/untrusted.js'

/** Where Puma's control app listens, and the token it wants (`none`/empty: no auth). */
export interface ControlEndpoint {
  /** Where the URL came from, for messages: "--control-url", "state file tmp/pids/puma.state". */
  origin: string
  /**
   * The state file it was read from, read again when Puma may have booted anew (a new token, a new
   * `auto` socket). Never set for a --control-url: what the user gave is used as given.
   */
  statePath?: string
  token?: string
  url: string
}

export type ControlAddress = {host: string; kind: 'tcp'; port: number} | {kind: 'unix'; path: string}

/**
 * Where a control URL points; a usage error (exit 2) for anything else, the URL shown with its
 * secrets out. A token belongs in --control-token or the state file: a URL with a userinfo part or
 * a query is refused (Puma would drop the query anyway), so no URL ctl uses carries one.
 */
export function parseControlUrl(url: string): ControlAddress {
  const shown = shownUrl(url)
  if (/^[a-z]+:\/\/[^/@]+@/i.test(url) || /[?#]/.test(url))
    throw usageError(`control URL ${shown}: a user, password or query is not part of a control URL`, {
      suggestion: 'pass the token with --control-token (or PUMA_CTL_CONTROL_TOKEN)',
    })
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(url)
  if (tcp) return {kind: 'tcp', host: tcp[1].replaceAll(/^\[|\]$/g, ''), port: portOf(tcp[2], shown)}
  const unix = /^unix:\/\/(.+)$/.exec(url)
  // unix://@name is Linux's abstract namespace (Puma 5.3+): a leading NUL byte, no file.
  if (unix) return {kind: 'unix', path: unix[1].startsWith('@') ? `\0${unix[1].slice(1)}` : unix[1]}
  if (url.startsWith('ssl://'))
    throw usageError(`control URL ${shown}: ssl:// control servers are not supported`, {
      suggestion: 'bind the control app to tcp://127.0.0.1 or a unix socket',
    })
  throw usageError(`control URL ${shown} is not tcp://HOST:PORT or unix:///PATH`)
}

function portOf(digits: string, shown: string): number {
  const port = Number(digits)
  if (port < 1 || port > 65_535)
    throw usageError(`control URL ${shown}: port ${digits.length > 6 ? 'number' : digits} is out of range (1-65535)`)
  return port
}

/** The endpoint's URL as messages show it (text/untrusted.ts shownUrl). */
export function shownEndpoint(endpoint: ControlEndpoint): string {
  return shownUrl(endpoint.url, endpoint.token)
}

export interface ControlAnswer {
  body: string
  status: number
}

export interface RequestOptions {
  signal?: AbortSignal
  /** The whole exchange's deadline, from connecting to the answer's last byte. */
  timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 10_000

/**
 * One request to Puma's control app, as pumactl sends it: `GET /<command>?token=…` over HTTP/1.0,
 * the token as the only query parameter (Puma ≤ 6.5 accepts nothing else), read until Puma closes.
 * Errors carry their exit code; the token never appears in any message.
 */
export async function controlRequest(
  endpoint: ControlEndpoint,
  command: string,
  options: RequestOptions = {},
): Promise<ControlAnswer> {
  const address = parseControlUrl(endpoint.url)
  const query = endpoint.token && endpoint.token !== 'none' ? `?token=${encodeURIComponent(endpoint.token)}` : ''
  const raw = redactToken(
    await exchange(address, {command, text: `GET /${command}${query} HTTP/1.0\r\n\r\n`}, endpoint, options),
    endpoint.token,
  )
  const answer = parseResponse(raw, endpoint)
  if (answer.status === 403) {
    throw notPermittedError(
      `Puma's control server at ${shownEndpoint(endpoint)} refused the token (403 ${answer.body.trim() || 'Forbidden'})`,
      {suggestion: tokenAdvice(endpoint)},
    )
  }

  return answer
}

/** Why Puma may refuse a token that worked before, and what to do, by where the endpoint came from. */
function tokenAdvice(endpoint: ControlEndpoint): string {
  const why = 'Puma writes a new one at each boot unless the config pins it'
  if (endpoint.origin !== '--control-url')
    return `${why}, into its state_path: check that ${endpoint.origin} is that file`
  return `${why}, and ctl never reads a --control-url again: pass --state (the file Puma's state_path names) so that ctl reads the current token, or pin auth_token in activate_control_app`
}

/** A JSON answer, or a clear error when Puma answers otherwise. */
export async function controlJson<T>(endpoint: ControlEndpoint, command: string, options?: RequestOptions): Promise<T> {
  const answer = await controlRequest(endpoint, command, options)
  if (answer.status !== 200) throw commandRefused(command, answer)
  try {
    return JSON.parse(answer.body) as T
  } catch {
    throw noMasterError(
      `the control server at ${shownEndpoint(endpoint)} answered /${command} with something that is not JSON: ${excerpt(answer.body, 80)}`,
      {
        suggestion: "is this URL Puma's control app? check control_url in the state file, or --control-url",
      },
    )
  }
}

/**
 * 404 and other non-200 answers: Puma's reason, e.g. `{ "error": "refork not available" }`.
 * `signalToo`: a signal can carry the command as well (a restart, stop, halt, refork).
 */
export function commandRefused(command: string, answer: ControlAnswer, options: {signalToo?: boolean} = {}): CtlError {
  let reason = answer.body.trim()
  try {
    reason = (JSON.parse(reason) as {error?: string}).error ?? reason
  } catch {}

  if (answer.status === 404 && DATA_ONLY.test(reason)) {
    return usageError(
      `Puma's control server is data-only (activate_control_app with data_only: true, Puma 7.2+): it answers /stats and /gc-stats, not /${command}`,
      {
        suggestion: options.signalToo
          ? `send ${command} by signal: --via signal, with --pid, --pidfile or --state naming the master`
          : `/${command} needs a control server without data_only`,
      },
    )
  }

  return usageError(`Puma's control server refused /${command}: ${answer.status} ${excerpt(reason, 80)}`, {
    suggestion:
      answer.status === 404 ? `this Puma cannot do ${command} here (its version or configuration)` : undefined,
  })
}

/** Puma 7.2+'s answer to a command its data_only control server does not serve (puma-facts §4). */
const DATA_ONLY = /^Command ".*" unavailable$/

/**
 * Sends `request` and reads the answer until Puma closes: within one deadline for the whole
 * exchange (an answer trickling in byte by byte ends there too), and no more than
 * MAX_ANSWER_BYTES of it (beyond, the socket is destroyed at once).
 */
function exchange(
  address: ControlAddress,
  request: {command: string; text: string},
  endpoint: ControlEndpoint,
  options: RequestOptions,
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (options.signal?.aborted)
    return Promise.reject(
      new CtlError('interrupted', `interrupted before talking to Puma's control server at ${endpoint.url}`),
    )
  return new Promise((resolve, reject) => {
    const socket: Socket =
      address.kind === 'tcp' ? connect({host: address.host, port: address.port}) : connect({path: address.path})
    const answer = new AnswerBytes()
    const fail = (error: Error) => {
      cleanup()
      socket.destroy()
      reject(error)
    }

    const onAbort = () =>
      fail(new CtlError('interrupted', `interrupted while talking to Puma's control server at ${endpoint.url}`))
    const timer = setTimeout(
      () =>
        fail(
          new CtlError(
            'timedOut',
            `Puma's control server at ${endpoint.url} did not answer within ${timeoutMs / 1000} s`,
            {suggestion: 'the master may be stuck; `ctl status` shows whether it runs'},
          ),
        ),
      timeoutMs,
    )
    const cleanup = () => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }

    options.signal?.addEventListener('abort', onAbort, {once: true})
    // Write without half-closing, as pumactl does: Puma may drop a request whose client sent FIN
    // before the answer. With HTTP/1.0 Puma closes the connection once it has answered.
    socket.on('connect', () => socket.write(request.text))
    socket.on('data', (chunk: Buffer) => {
      if (!answer.add(chunk)) fail(tooLarge(request.command, endpoint))
    })
    socket.on('end', () => {
      cleanup()
      resolve(answer.text())
    })
    socket.on('error', (error: NodeJS.ErrnoException) => fail(connectionError(error, endpoint)))
  })
}

/** Exit 3, as for any other answer that is not Puma's. */
function tooLarge(command: string, endpoint: ControlEndpoint): CtlError {
  return noMasterError(
    `Puma's control server at ${endpoint.url} sent more than ${MAX_ANSWER_TEXT} for /${command}: not Puma, or broken`,
    {
      suggestion: "is this URL Puma's control app? check control_url in the state file, or --control-url",
      data: {command: `/${command}`, maxBytes: MAX_ANSWER_BYTES},
    },
  )
}

function connectionError(error: NodeJS.ErrnoException, endpoint: ControlEndpoint): CtlError {
  const fromState = endpoint.origin.startsWith('state file')
  const stale = fromState
    ? ': the state file may be stale (Puma never deletes it), so Puma probably is not running'
    : ''
  switch (error.code) {
    case 'EACCES': {
      return notPermittedError(`not permitted to connect to ${shownEndpoint(endpoint)}`, {
        suggestion: "run ctl as the server's user",
      })
    }

    case 'ECONNREFUSED':
    case 'ENOENT': {
      return noMasterError(
        `nothing listens on Puma's control URL ${shownEndpoint(endpoint)} (${error.code === 'ENOENT' ? 'no such socket' : 'connection refused'})${stale}`,
        {
          suggestion: fromState
            ? '`ctl status` without --state scans for running masters'
            : 'check --control-url, or whether Puma runs',
        },
      )
    }

    default: {
      return noMasterError(
        `cannot reach Puma's control server at ${shownEndpoint(endpoint)}: ${error.code ?? error.message}${stale}`,
      )
    }
  }
}

function parseResponse(raw: string, endpoint: ControlEndpoint): ControlAnswer {
  const match = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r?\n/.exec(raw)
  if (!match)
    throw noMasterError(
      `the control URL ${shownEndpoint(endpoint)} did not answer like Puma's control server: ${excerpt(raw, 80)}`,
    )
  const bodyStart = raw.search(/\r?\n\r?\n/)
  return {status: Number(match[1]), body: bodyStart === -1 ? '' : raw.slice(bodyStart).replace(/^\r?\n\r?\n/, '')}
}
