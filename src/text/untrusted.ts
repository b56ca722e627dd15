/**
 * What of a file's or a flag's text ctl may quote in a message. A pidfile or state file may be a
 * symlink to a secret (/etc/shadow), and messages reach CI logs and --json consumers: a value is
 * quoted only when it is short, printable and shaped like what was expected; otherwise it is
 * described by its kind and size, never shown.
 */

/** Longest value quoted back: a PID, even a mistyped one, is far shorter. */
const MAX_QUOTED = 24

/** A number, as a mistyped PID would be: `-1`, `+42`, `12.5`, `99999999999999999999`. */
const NUMBER_LIKE = /^[+-]?\d+(\.\d+)?$/

// eslint-disable-next-line no-control-regex -- control characters and U+FFFD (invalid UTF-8) mark binary data
const BINARY = /[\u0000-\u0008\u000E-\u001F\u007F-\u009F\uFFFD]/

/** Whether a value may be quoted back as a mistyped PID: short, and a number. */
export function isQuotableNumber(text: string): boolean {
  return text.length <= MAX_QUOTED && NUMBER_LIKE.test(text)
}

/** Longest path quoted back: a real pidfile's or state file's path is far shorter. */
const MAX_PATH = 1024

// eslint-disable-next-line no-control-regex -- a path ctl shows is one line of printable text
const NOT_PATH_LIKE = /[\u0000-\u001F\u007F-\u009F\uFFFD]/

/**
 * Whether a file's path from a file ctl read (a Puma config) may be shown and used: one line of
 * printable text of a sane length. A config can put anything there (`state_path File.read(…)`).
 */
export function isQuotablePath(text: string): boolean {
  return text.length <= MAX_PATH && !NOT_PATH_LIKE.test(text)
}

/** A value ctl will not quote, by its kind and size. */
export function describeUnquoted(text: string, expected: string): string {
  const bytes = Buffer.byteLength(text)
  if (text.trim() === '') return 'empty'
  if (BINARY.test(text)) return `binary data: ${bytes} bytes`
  return `not ${expected}: ${bytes} bytes`
}

/** Longest URL quoted back. */
const MAX_URL = 300

/** scheme://… with no control characters (a unix socket's path may hold spaces). */
// eslint-disable-next-line no-control-regex -- a URL has no control characters
const URL_LIKE = /^[a-z][\d+.a-z-]*:\/\/[^\u0000-\u001F\u007F-\u009F\uFFFD]*$/i

/**
 * A URL as ctl prints it: secrets out (a userinfo part, the query and fragment, the token itself), and
 * described rather than quoted when it is not URL-shaped (a state file's control_url may hold anything).
 */
export function shownUrl(url: string, token?: string): string {
  if (url.length > MAX_URL || !URL_LIKE.test(url)) return `(${describeUnquoted(url, 'a URL')})`
  const structural = url.replace(/^([^:]+:\/\/)[^/@]+@/, '$1***@').replace(/([?#]).*$/, '$1***')
  return redactToken(structural, token)
}

/** A token's own text out of anything ctl prints (an answer may echo the request line: a proxy, not Puma). */
export function redactToken(text: string, token: string | undefined): string {
  if (!token || token === 'none') return text
  return text.replaceAll(token, '***').replaceAll(encodeURIComponent(token), '***')
}
