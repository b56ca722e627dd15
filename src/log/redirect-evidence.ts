import {existsSync} from 'node:fs'
import {open} from 'node:fs/promises'
import {isAbsolute, join} from 'node:path'

import {isRegularFile, type ProcessDetails, readEnvironment, readProcessDetails} from '../target/process-table.js'

/**
 * Whether a Puma master writes its stdout through stdout_redirect: only then is SIGHUP a log reopen,
 * otherwise Puma (3.6+) stops on it. The log's text cannot tell, since the app writes to the same
 * file and any HTTP client can make it print Puma-looking lines; so the evidence is Puma's config
 * (read, never run) or a marker at the one place only Puma writes to: the first line of a log it
 * opened itself after the master started.
 */

/** What the check reads, injected so that unit tests can drive it. */
export interface RedirectSources {
  /** The master's /proc details: fd 1's target, its cwd and its start time. */
  details(pid: number): Pick<ProcessDetails, 'cwd' | 'startedAt' | 'stdout'> | undefined
  /** /proc/PID/environ; undefined when it cannot be read (another user's process, or gone). */
  environ(pid: number): Record<string, string> | undefined
  /** Ruby's File.exist?, as Puma uses it to pick its default config file. */
  exists(path: string): boolean
  isRegularFile(path: string): boolean
  /** Up to `bytes` bytes from the start of a file; rejects when it cannot be read. */
  readHead(path: string, bytes: number): Promise<Buffer>
}

export type RedirectCheck =
  /** `evidence`: `config PATH` or `marker`. */
  | {evidence: string; kind: 'redirected'; log: string}
  /** Each reason says why one kind of evidence is missing, without quoting the files. */
  | {kind: 'no-evidence'; log: string; reasons: string[]}
  | {kind: 'not-a-file'; stdout?: string}

/** A config larger than this is read only this far (a log can be gigabytes; so can a mistaken config). */
export const CONFIG_READ_BYTES = 256 * 1024
/** The marker line is about 50 bytes; more than this cannot be the marker. */
const FIRST_LINE_BYTES = 256
/** Ruby's Time#to_s as Runner#redirect_io writes it: `=== puma startup: 2026-11-24 12:19:44 +0000 ===`. */
const MARKER = /^=== puma startup: (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) (?:([+-])(\d\d)(\d\d)|UTC) ===$/
/** The master's start time has 10 ms resolution, the marker's one second. */
const CLOCK_SLACK_MS = 1000

/**
 * Looks for evidence that `pid` runs with stdout_redirect. `configs` are config files the caller
 * knows the master runs with (relative ones from the master's folder, as Puma's -C reads them);
 * without them, the default file Puma would have loaded is read.
 */
export async function checkRedirect(
  pid: number,
  options: {configs?: string[]} = {},
  sources: RedirectSources = procSources,
): Promise<RedirectCheck> {
  const details = sources.details(pid)
  const log = details?.stdout
  if (!log || !sources.isRegularFile(log)) return {kind: 'not-a-file', stdout: log}
  // The marker first: it shows what this Puma did, where the config shows what it was told.
  const marker = await markerEvidence(log, details.startedAt, sources)
  if (marker.found) return {kind: 'redirected', log, evidence: 'marker'}
  const config = await configEvidence(pid, details.cwd, options.configs, sources)
  if (config.found) return {kind: 'redirected', log, evidence: `config ${config.path}`}
  return {kind: 'no-evidence', log, reasons: [marker.reason, config.reason]}
}

type Finding = {found: false; reason: string} | {found: true; path: string}

/**
 * Which config the master loaded, as far as ctl can see: Puma overwrites its command line with its
 * title, so a `-C`/`--config` or `-e` given there is gone; its state file keeps only pid, control
 * URL, token and running_from; its environment keeps only what it started with. So without
 * `configs` from the caller this is Puma's default: the first of config/puma/<env>.rb and
 * config/puma.rb that exists in the master's folder, <env> from APP_ENV, RACK_ENV, RAILS_ENV (in
 * Puma's order, 5.x to 8.x), else development.
 */
async function configEvidence(
  pid: number,
  cwd: string | undefined,
  configs: string[] | undefined,
  sources: RedirectSources,
): Promise<Finding> {
  if (!cwd) return {found: false, reason: `pid ${pid}'s folder is not readable, so neither is its config`}
  let files = configs?.map((path) => (isAbsolute(path) ? path : join(cwd, path)))
  if (!files || files.length === 0) {
    const env = sources.environ(pid)
    if (!env) return {found: false, reason: `pid ${pid}'s environment is not readable, so its config is unknown`}
    const name = ['APP_ENV', 'RACK_ENV', 'RAILS_ENV'].map((key) => env[key]).find((value) => value !== undefined)
    const defaults = [`config/puma/${name ?? 'development'}.rb`, 'config/puma.rb'].map((path) => join(cwd, path))
    const found = defaults.find((path) => sources.exists(path))
    if (!found) return {found: false, reason: `no Puma config at ${defaults.join(' or ')}`}
    files = [found]
  }

  const unreadable: string[] = []
  for (const path of files) {
    // eslint-disable-next-line no-await-in-loop -- one or two small files, and the first with the call ends the search
    const found = await hasRedirectCall(path, sources)
    if (found === undefined) unreadable.push(path)
    else if (found) return {found: true, path}
  }

  const without = files.filter((path) => !unreadable.includes(path))
  return {
    found: false,
    reason: [
      without.length > 0 ? `no stdout_redirect in ${without.join(', ')}` : '',
      unreadable.length > 0 ? `cannot read ${unreadable.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; '),
  }
}

/** Undefined when the file cannot be read. */
async function hasRedirectCall(path: string, sources: RedirectSources): Promise<boolean | undefined> {
  let head: Buffer
  try {
    head = await sources.readHead(path, CONFIG_READ_BYTES)
  } catch {
    return undefined
  }

  let lines = head.toString('utf8').split('\n')
  if (head.length >= CONFIG_READ_BYTES) lines = lines.slice(0, -1) // cut at the cap: only whole lines count
  return containsRedirectCall(lines)
}

/**
 * A static read of a Ruby config: an uncommented `stdout_redirect` call with a non-nil argument, at
 * the start of a line (not indented into a block or condition), outside =begin/=end, without an
 * `if`/`unless` after it. Conditions are not evaluated: a conditional call is no evidence.
 */
export function containsRedirectCall(lines: string[]): boolean {
  let inBlockComment = false
  for (const line of lines) {
    if (inBlockComment) {
      inBlockComment = !/^=end(\s|$)/.test(line)
      continue
    }

    if (/^=begin(\s|$)/.test(line)) {
      inBlockComment = true
      continue
    }

    const call = /^stdout_redirect(?:\s*\(|\s+)(.*)$/.exec(line)
    if (!call) continue
    const args = call[1].replace(/#.*$/, '')
    if (/\b(?:if|unless)\b/.test(args.replaceAll(/(["'])(?:(?!\1).)*\1/g, ''))) continue
    // `stdout_redirect nil` (or no argument) redirects nothing: HUP would still stop Puma.
    if (/[^\s(),]/.test(args.replaceAll(/\b(?:nil|true|false)\b/g, ''))) return true
  }

  return false
}

/**
 * Runner#redirect_io opens the log ("w" truncates it) and writes the marker before anything else,
 * so a log whose first line is a marker not older than the master was opened by this Puma. App
 * output lands after Puma's own first lines; a marker further down, or from an older master, counts
 * for nothing. (Left open: a log in append mode truncated under a running Puma, whose app is the
 * next writer; then the config is the evidence.)
 */
async function markerEvidence(log: string, startedAt: Date, sources: RedirectSources): Promise<Finding> {
  let head: Buffer
  try {
    head = await sources.readHead(log, FIRST_LINE_BYTES)
  } catch {
    return {found: false, reason: 'the log cannot be read'}
  }

  const newline = head.indexOf('\n')
  const time = newline === -1 ? undefined : markerTime(head.subarray(0, newline).toString('utf8'))
  if (time === undefined) return {found: false, reason: "the log does not start with Puma's startup marker"}
  if (time < Math.floor(startedAt.getTime() / 1000) * 1000 - CLOCK_SLACK_MS)
    return {found: false, reason: "the log's startup marker is older than the master"}
  return {found: true, path: log}
}

/** The marker's time in ms since the epoch, or undefined when the line is not exactly a marker. */
export function markerTime(line: string): number | undefined {
  const match = MARKER.exec(line)
  if (!match) return undefined
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number)
  const offsetMinutes = match[7] ? (match[7] === '-' ? -1 : 1) * (Number(match[8]) * 60 + Number(match[9])) : 0
  return Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const file = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(bytes)
    const {bytesRead} = await file.read(buffer, 0, bytes, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await file.close()
  }
}

export const procSources: RedirectSources = {
  details: readProcessDetails,
  environ: readEnvironment,
  exists: existsSync,
  isRegularFile,
  readHead,
}
