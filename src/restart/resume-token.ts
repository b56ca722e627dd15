import {isAbsolute} from 'node:path'

import {usageError} from '../errors.js'
import {type LogPosition} from '../log/follow.js'
import {type FamilyMember} from '../target/family.js'
import {isQuotablePath} from '../text/untrusted.js'
import {type BeforeSignal} from './witness.js'

/**
 * The resume token: what a restart knew just before its signal, so that a later `ctl wait --since`
 * measures "new since the signal" against the same baseline instead of inventing one from text.
 * `v1.` + base64url of JSON: URL- and shell-safe, one word on a command line. It holds PIDs, start
 * times, thread ids and log positions; nothing secret (no control token, no environment).
 */

/** A token longer than this is refused unread: a cluster of hundreds of workers still fits. */
export const MAX_TOKEN_CHARS = 32_768

const PREFIX = 'v1.'

export type ResumeKind = 'hot' | 'phased' | 'refork'

export interface ResumeLog extends LogPosition {
  path: string
}

/** A worker (or other child) of the master at the signal; `start`: its start ticks, so a reused PID is told apart. */
export interface ResumeMember {
  index?: number
  pid: number
  start?: number
  worker: boolean
  zombie: boolean
}

export interface ResumeToken {
  family: ResumeMember[]
  kind: ResumeKind
  logs: ResumeLog[]
  master: {
    pid: number
    /** When the master started, for messages (ISO 8601). */
    startedAt?: string
    /** Its start ticks: the identity `ctl wait` checks the master it finds against. */
    startTicks?: number
    uid?: number
  }
  /** Puma names its threads (5.0+). */
  namesThreads: boolean
  /** The folder the workers ran at the signal (src/restart/old-release.ts): a failure names it. */
  oldRelease?: string
  /** /stats's phase just before the signal, when it answered. */
  phase?: number
  /** Epoch milliseconds when the command was sent. */
  sentAt: number
  /** The master's thread ids at the signal. */
  tids: number[]
}

export function encodeResume(token: ResumeToken): string {
  return PREFIX + Buffer.from(JSON.stringify(token), 'utf8').toString('base64url')
}

/** The token `ctl wait --since` was given; a usage error (exit 2, one line) for anything else. */
export function decodeResume(text: string): ResumeToken {
  const trimmed = text.trim()
  if (trimmed.length > MAX_TOKEN_CHARS) throw bad(`longer than ${MAX_TOKEN_CHARS} characters`)
  const version = /^(v\d+)\./.exec(trimmed)?.[1]
  if (version === undefined) throw bad('it does not begin with v1.')
  if (version !== 'v1') throw bad(`version ${version} is not one this ctl reads (v1); use the ctl that wrote it`)
  const body = trimmed.slice(PREFIX.length)
  if (!/^[\w-]+$/.test(body)) throw bad('it is not base64url')
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {
    throw bad('its contents are not JSON (cut short?)')
  }

  const why = invalid(parsed)
  if (why) throw bad(why)
  return parsed as ResumeToken
}

const bad = (why: string) =>
  usageError(`--since is not a resume token ctl wrote: ${why}`, {
    suggestion:
      'pass the `resume` value printed by `ctl phased-restart --no-wait` (or by an interrupted wait) as it is',
  })

const isCount = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
const isPid = (value: unknown) => isCount(value) && (value as number) > 0
const optional = (value: unknown, check: (value: unknown) => boolean) => value === undefined || check(value)
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function invalidMember(member: unknown): boolean {
  if (!isObject(member)) return true
  const {index, pid, start, worker, zombie} = member
  return (
    !isPid(pid) ||
    !optional(index, isCount) ||
    !optional(start, isCount) ||
    typeof worker !== 'boolean' ||
    typeof zombie !== 'boolean'
  )
}

function invalidLog(log: unknown): boolean {
  if (!isObject(log)) return true
  // Its path is shown in warnings and messages: absolute, one line of printable text, as ctl writes it.
  return (
    typeof log.path !== 'string' ||
    !isAbsolute(log.path) ||
    !isQuotablePath(log.path) ||
    !isCount(log.dev) ||
    !isCount(log.ino) ||
    !isCount(log.offset)
  )
}

function invalidMaster(master: unknown): boolean {
  if (!isObject(master)) return true
  const {pid, startTicks, startedAt, uid} = master
  return !isPid(pid) || !optional(startTicks, isCount) || !optional(uid, isCount) || !optional(startedAt, isIsoTime)
}

/** As toISOString() writes it: the only shape of `startedAt`, which messages quote. */
const isIsoTime = (value: unknown) =>
  typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value)

/** Why a decoded value is no token, field by field; undefined when it is one. */
function invalid(value: unknown): string | undefined {
  if (!isObject(value)) return 'not an object'
  if (!['hot', 'phased', 'refork'].includes(value.kind as string)) return 'no restart kind'
  if (invalidMaster(value.master)) return 'no master'
  if (!Array.isArray(value.family) || value.family.some((member) => invalidMember(member))) return 'no family'
  if (!Array.isArray(value.tids) || !value.tids.every((tid) => isPid(tid))) return 'no thread ids'
  if (typeof value.namesThreads !== 'boolean') return 'no thread naming'
  if (!Array.isArray(value.logs) || value.logs.some((log) => invalidLog(log))) return 'no log positions'
  // Beyond Date's range (8.64e15 ms) toISOString() throws: a time sent is one a Date can hold.
  if (!isCount(value.sentAt) || (value.sentAt as number) > 8.64e15) return 'no time sent'
  if (!optional(value.phase, isCount)) return 'no phase'
  if (!optional(value.oldRelease, (folder) => typeof folder === 'string' && isQuotablePath(folder))) return 'no release'
  return undefined
}

/** What a restart that is not followed to its end hands on: its baseline, as a token. */
export function resumeTokenOf(sent: {
  before: BeforeSignal
  kind: ResumeKind
  logs: ResumeLog[]
  master: {startedAt?: Date; startTicks?: number}
  oldRelease?: string
  phase?: number
  sentAt: number
  startTicksOf: (pid: number) => number | undefined
}): ResumeToken {
  const {before} = sent
  const member = ({index, pid, worker, zombie}: FamilyMember): ResumeMember => ({
    pid,
    index,
    worker,
    zombie,
    start: sent.startTicksOf(pid),
  })
  return {
    kind: sent.kind,
    master: {
      pid: before.masterPid,
      startTicks: sent.master.startTicks,
      startedAt: sent.master.startedAt?.toISOString(),
      uid: before.masterUid,
    },
    family: before.family.map((entry) => member(entry)),
    tids: before.masterTids,
    namesThreads: before.namesThreads,
    logs: sent.logs.map(({path, dev, ino, offset}) => ({path, dev, ino, offset})),
    ...(sent.oldRelease !== undefined && {oldRelease: sent.oldRelease}),
    phase: sent.phase,
    sentAt: sent.sentAt,
  }
}

/**
 * The baseline again, as the kernel stands now: a member whose PID now runs a process started at
 * another time is left out (its PID was reused: whatever runs there now is new since the signal).
 */
export function beforeOf(token: ResumeToken, startTicksOf: (pid: number) => number | undefined): BeforeSignal {
  const reused = (member: ResumeMember) => {
    const now = member.start === undefined ? undefined : startTicksOf(member.pid)
    return now !== undefined && now !== member.start
  }

  return {
    masterPid: token.master.pid,
    masterUid: token.master.uid,
    masterTids: token.tids,
    namesThreads: token.namesThreads,
    family: token.family
      .filter((member) => !reused(member))
      .map(({index, pid, worker, zombie}) => ({index, pid, worker, zombie})),
  }
}
