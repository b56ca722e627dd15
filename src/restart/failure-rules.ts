import type {LogEvent} from '../log/events.js'

import {pumaAtLeast} from '../log/dialects.js'
import {parseLine, splitPrefix} from '../log/parse.js'
import {finish} from './outcome.js'
import {
  bootedCount,
  type Collecting,
  failingIndex,
  type Failure,
  neededIndices,
  type Notice,
  oldPids,
  type RestartState,
} from './state.js'
import {type PidWitness, type Standing} from './witness.js'
import {
  bootFailedNotice,
  earlyTerminationNotice,
  exceptionMessage,
  suspectNotice,
  untrueLineWarning,
  withoutPrefix,
} from './wording.js'

/**
 * When a restart has failed, read from lines that rarely say so plainly: boot errors (first only a
 * suspect), silent early terminations, extra worker starts, hung boots; and the error lines kept for
 * the report, with the lines that continue them.
 */

/**
 * How long to keep reading a failed worker's error lines after `! Unable to start worker` when its
 * `Early termination of worker` does not come: Puma writes them back to back, so 250 ms is plenty.
 */
export const FAILURE_DETAIL_GRACE_MS = 250

/**
 * Early terminations of never-booted workers that mean "this boot keeps failing" on Pumas that log
 * no reason (before 5.3.2). One alone also happens when the master stops a worker that is still
 * booting (a second USR1, TTOU). 5.0–5.3.1 respawn a failing worker at once, so the third comes
 * within milliseconds; 4.x respawns slowly and may log only one, and there the deadline decides.
 */
export const SILENT_FAILURE_TERMINATIONS = 3

/**
 * Worker starts (`+ Gemfile in context`, logged by prune_bundler setups) beyond the workers still
 * to boot: each extra one is a respawn of a worker that died booting, the only trace of some silent
 * failure loops (#1420). Not 1, for the same reason as early terminations.
 */
export const SILENT_FAILURE_EXTRA_STARTS = 3

/**
 * Boot failures since the restart started that are only *suspects*, not yet a failed restart. A worker
 * forked before the signal still runs the code it loaded: after a rollback from a broken release, the
 * crash loop of the broken code can log `! Unable to start worker` once more just after `Starting phased
 * worker restart`, and Puma's log does not say which phase a failing worker belonged to. The next failure,
 * from another PID, is real. Puma 5.x+ respawns a failed worker at once, so in a genuinely broken release
 * this costs one respawn (about 10–300 ms). Puma replaces workers one at a time and stops at a failing one,
 * so only one worker crash-loops when the rollback's signal comes.
 */
export const SUSPECT_BOOT_FAILURES = 1

/** How many PIDs named by untrue lines are told; one more warning says that more were ignored. */
const MAX_TOLD_IGNORED = 3

/** A worker the master forked since the signal, alive or not: the only PIDs a failure line may name. */
const FORKED_SINCE: readonly Standing[] = ['new', 'gone-new']

function denied(state: RestartState, pid: number, witness: PidWitness | undefined) {
  return contradicted(state, pid, witness, FORKED_SINCE)
}

/**
 * Whether the kernel contradicts a line about `pid` (its standing is not one of `allowed`). Such a
 * line is not Puma's, whatever it says: an app prints what its clients send. One naming a PID the
 * master never forked is told once.
 */
export function contradicted(
  state: RestartState,
  pid: number,
  witness: PidWitness | undefined,
  allowed: readonly Standing[],
): {state: RestartState; untrue: boolean} {
  if (!witness || allowed.includes(witness.standing)) return {state, untrue: false}
  // Told for the first few PIDs only: a flood of forged lines must cost neither time nor memory.
  const told = state.ignoredPids.length
  if (witness.standing !== 'stranger' || told > MAX_TOLD_IGNORED || state.ignoredPids.includes(pid))
    return {state, untrue: true}
  const warning = untrueLineWarning(told === MAX_TOLD_IGNORED ? undefined : pid, state.plan.masterPid)
  return {
    untrue: true,
    state: {
      ...state,
      ignoredPids: [...state.ignoredPids, pid],
      warnings: [...state.warnings, warning],
      notices: [...state.notices, {kind: 'warning', message: warning}],
    },
  }
}

/** Puma 6+ logs a whole backtrace (hundreds of lines in a Rails app): keep the report readable. */
export const MAX_ERROR_LINES = 40

/** When a failing worker's error lines have been read long enough (undefined: no worker is failing). */
export function failureGraceEndsAt(state: RestartState): number | undefined {
  return state.status === 'failing' && state.failure ? state.failure.since + FAILURE_DETAIL_GRACE_MS : undefined
}

/**
 * Offers a line to the error being collected. `consumed`: the line was the error's (kept, or it
 * ended the failure), so nothing else may read it.
 */
export function collectErrorLine(
  state: RestartState,
  event: LogEvent,
  at: number,
): {consumed: boolean; state: RestartState} {
  const {collecting} = state
  if (!collecting) return {consumed: false, state}
  if (collecting.from === 'worker' && collecting.suspectSince !== undefined) {
    // A suspect's lines are kept as evidence for a while, but every other line counts as usual (a boot line
    // right after it is the restart going on). Its own Early termination ends them.
    const within = at - collecting.suspectSince < FAILURE_DETAIL_GRACE_MS
    if (within && continuesError(state, event)) return {consumed: true, state: keepError(state, event)}
    const ended = !within || isEarlyTerminationOf(event, collecting.pid)
    return {consumed: false, state: ended ? {...state, collecting: undefined} : apart(state, collecting)}
  }

  if (continuesError(state, event)) return {consumed: true, state: keepError(state, event)}
  if (collecting.from === 'worker') {
    const ended = isEarlyTerminationOf(event, collecting.pid)
    return {consumed: true, state: ended ? finish(state, at, 'worker-failed') : apart(state, collecting)}
  }

  return {consumed: false, state: {...state, collecting: undefined}}
}

/** Keeps a line of the error; one in the worker's own prefix lets indented lines continue it again. */
function keepError(state: RestartState, event: LogEvent): RestartState {
  const told = messageNotice(state, event)
  const next = told.length > 0 ? {...appendError(state, event.line), notices: told} : appendError(state, event.line)
  const {collecting} = state
  if (collecting?.from !== 'worker' || !collecting.apart || event.prefixPid !== collecting.pid) return next
  return {...next, collecting: {...collecting, apart: false}}
}

function apart(state: RestartState, collecting: Collecting & {from: 'worker'}): RestartState {
  return collecting.apart ? state : {...state, collecting: {...collecting, apart: true}}
}

function isEarlyTerminationOf(event: LogEvent, pid: number | undefined): boolean {
  return event.kind === 'worker-early-termination' && event.prefixPid === pid
}

function continuesError(state: RestartState, event: LogEvent): boolean {
  const {collecting} = state
  const indented = event.prefixPid === undefined && /^[ \t]/.test(event.line)
  if (collecting?.from === 'master') return indented && event.kind === 'other'
  if (event.kind === 'worker-early-termination') return false
  // Puma prefixes only the first line of a multi-line message: its indented rest follows at once.
  return (indented && !collecting?.apart) || (collecting?.pid !== undefined && event.prefixPid === collecting.pid)
}

/**
 * Puma 6.0+ logs the exception's message on the line after `! Unable to start worker`: the failing
 * worker's notice waits for it (onBootFailure), and quotes it, or the boot error line when the next
 * line is a backtrace frame.
 */
function messageNotice(state: RestartState, event: LogEvent): Notice[] {
  const {failure} = state
  if (state.status !== 'failing' || failure?.cause !== 'boot-error' || !logsMessage(state.plan.version)) return []
  if (failure.pid === undefined || event.prefixPid !== failure.pid) return []
  const owners = ownersOf(state.errorLines)
  const own = state.errorLines[owners.lastIndexOf(failure.pid)]
  if (own === undefined || parseLine(own).kind !== 'worker-boot-error') return []
  const quoted = exceptionMessage(event.line) === undefined ? own : event.line
  return [{kind: 'error', message: bootFailedNotice(failure.index, failure.pid, quoted)}]
}

/** 6.0+ logs the exception's message after `! Unable to start worker` (5.3.2–5.6 a backtrace frame). */
function logsMessage(version: string | undefined): boolean {
  return pumaAtLeast(version, '6.0.0')
}

/**
 * Keeps an error line next to the earlier lines of the process that wrote it (its `[pid] ` prefix;
 * an unprefixed line continues the worker being read), so that two workers' errors that
 * interleave in the log read one after the other.
 */
export function appendError(state: RestartState, line: string): RestartState {
  if (state.errorLines.length >= MAX_ERROR_LINES) return {...state, errorLinesOmitted: state.errorLinesOmitted + 1}
  const {collecting} = state
  const owner = splitPrefix(line).prefixPid ?? (collecting?.from === 'worker' ? collecting.pid : undefined)
  const owners = ownersOf(state.errorLines)
  const last = owner === undefined ? -1 : owners.lastIndexOf(owner)
  if (last === -1 || last === owners.length - 1) return {...state, errorLines: [...state.errorLines, line]}
  return {...state, errorLines: [...state.errorLines.slice(0, last + 1), line, ...state.errorLines.slice(last + 1)]}
}

/** Who wrote each error line: its prefix's PID, or, unprefixed, whoever wrote the line before. */
function ownersOf(lines: readonly string[]): Array<number | undefined> {
  const owners: Array<number | undefined> = []
  for (const line of lines) owners.push(splitPrefix(line).prefixPid ?? owners.at(-1))
  return owners
}

function appendErrors(state: RestartState, lines: ReadonlyArray<{line: string}>): RestartState {
  let next = state
  for (const {line} of lines) next = appendError(next, line)
  return next
}

/** At the deadline, the early terminations seen are the best evidence of why. */
export function withTimeoutEvidence(state: RestartState): RestartState {
  return appendErrors(state, state.earlyTerminations)
}

/** An error of the master's own (a load error, a fatal line): its indented lines follow. */
export function masterError(state: RestartState, line: string): RestartState {
  return {
    ...appendError(state, line),
    collecting: {from: 'master'},
    notices: [{kind: 'error', message: withoutPrefix(line)}],
  }
}

/**
 * Ruby's own dump of an uncaught exception (stderr). After a master error, or in single mode, it is
 * the master dying; otherwise, mid-restart, it is what a 2.x–4.1 worker leaves when it fails to
 * boot: no Puma line says so. (A suspect's lines, see SUSPECT_BOOT_FAILURES, are no master error.)
 */
export function onRubyException(state: RestartState, event: LogEvent, at: number): RestartState {
  const afterMasterError = state.errorLines.length > 0 && state.suspects.length === 0
  // A start's Puma that names its failing workers: an unprefixed dump is the master's own crash (a pidfile it cannot write).
  const startCrash = state.plan.start === true && namesFailingWorkers(state.plan.version)
  if (afterMasterError || state.mode === 'single' || startCrash) return masterError(state, event.line)
  // A Puma that names its failing workers (5.3.2+) is not read from an unprefixed dump anyone can print.
  if (state.status !== 'restarting' || namesFailingWorkers(state.plan.version)) return state
  return onBootFailure(state, event, at, {})
}

/** 5.3.2+ logs `! Unable to start worker` in the failing worker's prefix. */
function namesFailingWorkers(version: string | undefined): boolean {
  return pumaAtLeast(version, '5.3.2')
}

/** `! Unable to start worker`, in the failing worker's own prefix: a worker the master forked since the signal. */
export function onWorkerBootError(
  state: RestartState,
  event: LogEvent,
  at: number,
  witness?: PidWitness,
): RestartState {
  const own = ownLineOfNewWorker(state, event, witness)
  return own.pid === undefined ? own.state : onBootFailure(state, event, at, {pid: own.pid, index: witness?.index})
}

/**
 * The PID of a line a worker writes in its own prefix (never the master's), unless the kernel
 * denies that the master forked it since the signal: then undefined, and `state` carries the
 * warning for a stranger.
 */
function ownLineOfNewWorker(
  state: RestartState,
  event: LogEvent,
  witness: PidWitness | undefined,
): {pid?: number; state: RestartState} {
  const pid = event.prefixPid
  if (pid === undefined || pid === state.plan.masterPid) return {state}
  const checked = denied(state, pid, witness)
  return checked.untrue ? {state: checked.state} : {pid, state}
}

/** A worker failed to boot (`pid` undefined: a 2.x–4.1 exception dump): a suspect first, then a failure. */
function onBootFailure(
  state: RestartState,
  event: LogEvent,
  at: number,
  {index, pid}: {index?: number; pid?: number},
): RestartState {
  // A process fails only once: the same PID again is a repeated line, not another attempt.
  if (pid !== undefined && state.suspects.includes(pid)) return state
  if (state.suspects.length < SUSPECT_BOOT_FAILURES) {
    return {
      ...appendError(state, event.line),
      suspects: [...state.suspects, pid],
      collecting: {from: 'worker', pid, suspectSince: at},
      notices: [{kind: 'warning', message: suspectNotice(pid)}],
    }
  }

  const failure: Failure = {cause: 'boot-error', index: failingIndex(state, index), pid, since: at}
  // 6.0+: the notice quotes the exception's message, on the next line (messageNotice).
  const waitForMessage = pid !== undefined && logsMessage(state.plan.version)
  return {
    ...appendError(state, event.line),
    status: 'failing',
    failure,
    collecting: {from: 'worker', pid},
    notices: waitForMessage ? [] : [{kind: 'error', message: bootFailedNotice(failure.index, failure.pid, event.line)}],
  }
}

export function onEarlyTermination(
  state: RestartState,
  event: LogEvent,
  at: number,
  witness?: PidWitness,
): RestartState {
  const {pid, state: told} = ownLineOfNewWorker(state, event, witness)
  if (pid === undefined) return told
  const repeated = state.earlyTerminations.some((t) => t.pid === pid)
  // A suspect's own end is no silent failure: its reason was logged.
  if (oldPids(state).includes(pid) || state.bootPids.includes(pid) || repeated || state.suspects.includes(pid))
    return state

  const ended = {
    pid,
    line: event.line,
    index: witness?.index ?? (event.kind === 'worker-early-termination' ? event.index : undefined),
    source: event.source,
  }
  const earlyTerminations = [...state.earlyTerminations, ended]
  const next: RestartState = {
    ...state,
    earlyTerminations,
    notices: [{kind: 'error', message: earlyTerminationNotice(ended)}],
  }
  const index = failingIndex(state, ended.index)
  if (earlyTerminations.length < SILENT_FAILURE_TERMINATIONS) return next
  const failed = appendErrors(next, earlyTerminations)
  return finish({...failed, failure: {cause: 'early-terminations', index, since: at}}, at, 'worker-failed')
}

export function onWorkerStarting(state: RestartState, event: LogEvent, at: number, witness?: PidWitness): RestartState {
  const {pid, state: told} = ownLineOfNewWorker(state, event, witness)
  if (pid === undefined) return told
  if (oldPids(state).includes(pid) || state.workerStarts.some((s) => s.pid === pid)) return state
  const next: RestartState = {...state, workerStarts: [...state.workerStarts, {pid, line: event.line}]}
  // Every worker still to boot may legitimately be booting right now (a hot restart starts them all at once).
  const unbooted = next.workerStarts.filter((s) => !next.bootPids.includes(s.pid))
  const stillToBoot = neededIndices(next).length - bootedCount(next)
  if (unbooted.length - stillToBoot < SILENT_FAILURE_EXTRA_STARTS) return next
  const failed = appendErrors(next, unbooted)
  return finish(
    {...failed, failure: {cause: 'repeated-starts', index: failingIndex(state), since: at}},
    at,
    'worker-failed',
  )
}

export function onWorkerTimedOut(
  state: RestartState,
  event: LogEvent & {kind: 'worker-timed-out'},
  at: number,
  witness?: PidWitness,
): RestartState {
  if (event.during === 'check-in') return state
  // A worker from before the signal (the hung boot of a release being rolled back) is not this restart's.
  if (oldPids(state).includes(event.workerPid)) return state
  // A worker that booted did not hang while booting, whatever a line says (the pre-5.3 wording names neither).
  if (state.bootPids.includes(event.workerPid)) return state
  const checked = denied(state, event.workerPid, witness)
  if (checked.untrue) return checked.state
  const index = failingIndex(state, event.index ?? witness?.index)
  const failed = {
    ...appendError(state, event.line),
    failure: {cause: 'hung-boot' as const, index, pid: event.workerPid, since: at},
  }
  return finish(failed, at, 'worker-failed')
}
