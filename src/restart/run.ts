import {type DeliverableCommand, type Delivery, type Via} from '../actions/deliver.js'
import {CtlError, EXIT, exitNameOf, hasExitCode, refuseIfInterrupted} from '../errors.js'
import {describeJournalUnit} from '../log/journal.js'
import {type LogSource} from '../log/locate.js'
import {masterOf, type Reach} from '../target/reach.js'
import {type CheckSummary, proveReleaseBoots} from './boot-gate.js'
import {type HealthResult, resolveDir, validateHealthUrl} from './checks.js'
import {checkAfterRestart, confirmWithStats} from './confirm.js'
import {realRestartDeps, type RestartDeps} from './deps.js'
import {type RestartKind, type RestartOutcome, type RestartShape, type RestartState} from './machine.js'
import {type Preflight} from './preflight.js'
import {type Prepared, prepareRestart} from './prepare.js'
import {encodeResume, resumeTokenOf} from './resume-token.js'
import {waitForOutcome} from './wait.js'
import {type BeforeSignal, readBeforeSignal} from './witness.js'

export interface RestartRequest {
  /** Prove the release boots before the signal: true forces it, false skips it, undefined lets ctl decide (boot-gate.ts). */
  check?: boolean
  /** The user's own check instead of ctl's (sh -c in the app folder, as the master's user). */
  checkCommand?: string
  checkTimeoutMs?: number
  /** ctl's -F: the config file the boot check loads instead of Puma's default files. */
  configFile?: string
  cwd?: string
  /** After the restart: every new worker must run in the folder this points to (exit 8 otherwise). */
  expectDir?: string
  healthTimeoutMs?: number
  /** After the restart: this URL must answer 2xx within healthTimeoutMs (exit 8 otherwise). */
  healthUrl?: string
  /** --journal: follow this systemd unit's journal (found on its own when the master logs to the journal). */
  journal?: string
  kind: RestartKind
  /** --log; otherwise the master's stdout/stderr files are followed. */
  logPath?: string
  /** Called once the command is sent, then after every step of the wait. */
  onStart?: (start: RestartStart) => void
  onUpdate?: (state: RestartState) => void
  /** A refork (SIGURG or /refork, kind 'phased'): worker 0 stays, and workers 1.. are forked from it. */
  refork?: boolean
  /** Ctrl-C: stop waiting, send nothing more. */
  signal: AbortSignal
  /** --soak: keep watching this long after the restart is done (src/restart/soak.ts). */
  soakMs?: number
  /** --stall-timeout: no progress for this long ends the wait with exit 6, naming the stuck step (src/restart/stall.ts); 0: off; undefined: the default from Puma's timeouts (stall-default.ts). */
  stallMs?: number
  /** Puma was just spawned by ctl (src/restart/start.ts): the wait follows its boot, not a restart. */
  start?: boolean
  timeoutMs: number
  /** The verified master (and its control server), or only a control server. */
  to: Reach
  via: Via
  /** false: send and return, as pumactl does. */
  wait: boolean
}

export interface RestartStart extends Delivery {
  /** The boot check before the signal, when one ran (and passed). */
  check?: CheckSummary
  /** What the progress lines say instead of "Sent SIGNAL to …" (a start: what ctl ran). */
  headline?: string
  logs: LogSource[]
  pid?: number
  preflight: Preflight
  /** true when /stats is followed (the only source, or confirming the log's verdict). */
  stats: boolean
}

/** --no-wait (pumactl's behaviour): what was sent, in the shape of a waited report, with no verdict. */
export interface SentReport {
  check?: CheckSummary
  exitCode: 0
  logs: string[]
  outcome: 'sent'
  pid?: number
  /** What was asked for; what Puma really does is not known without waiting. */
  restart: RestartShape
  /** `ctl wait --since` this: follows the restart to its verdict later (absent without the master's /proc). */
  resume?: string
  sent: string
  summary: string
  via: Via
  waited: false
  warnings: string[]
}

export type RestartReport =
  (RestartOutcome & {check?: CheckSummary; health?: HealthResult; logs: string[]; waited: true}) | SentReport

/**
 * A restart from start to verdict, in four parts: prepare (find the log and remember its end,
 * /stats, pre-flight), send the command, wait (feed log lines, or /stats changes when there is no
 * log, the master's death and the ticks the machine asks for to the state machine until it reaches
 * an outcome), then confirm (/stats, where known, must agree with a success) and the post checks.
 * A failed outcome is thrown as a CtlError carrying the outcome's exit code and data. Every side
 * effect goes through `deps`.
 */
export async function runRestart(request: RestartRequest, deps: RestartDeps = realRestartDeps): Promise<RestartReport> {
  // Permission first: the wrong user hears that, not advice about logs that would end in exit 4 anyway.
  const master = masterOf(request.to)
  if (master && request.via === 'signal') deps.assertMaySignal(master)
  // The post-restart checks' own input is checked next: a typo must not surface after the restart.
  if (request.expectDir !== undefined) resolveDir(request.expectDir)
  if (request.healthUrl !== undefined) validateHealthUrl(request.healthUrl)
  const prepared = await prepareRestart(request, deps)
  const {before, check, resume, start, startedAt} = await sendRestart(request, prepared, deps)
  if (!request.wait) return {...sentReport(request, start, resume), ...(check && {check})}

  const state = await waitForOutcome(request, prepared, {at: startedAt, before}, deps).catch((error: unknown) => {
    throw resumable(error, resume)
  })
  return settle(request, {prepared, state, check}, deps).catch((error: unknown) => {
    throw resumable(error, resume)
  })
}

/** From the machine's outcome to the report: a failure thrown, a success confirmed by /stats and the post checks. */
export async function settle(
  request: RestartRequest,
  {check, prepared, state}: {check?: CheckSummary; prepared: Prepared; state: RestartState},
  deps: RestartDeps,
): Promise<RestartReport> {
  // What was said before the signal belongs to the record too (--json prints no progress lines).
  const warnings = [...prepared.checks.warnings, ...state.outcome!.warnings]
  const verdict = {logs: prepared.logs.map((log) => log.path), ...state.outcome!, warnings, ...(check && {check})}
  if (verdict.exitCode !== 0) throw outcomeError(verdict)
  const report = {waited: true as const, ...verdict}
  if (prepared.confirmControl && prepared.hasLog) await confirmWithStats(prepared.confirmControl, state, request, deps)
  await checkAfterRestart(report, request, deps)
  return report
}

/**
 * Proves the release boots where a hot restart could take the master down, then sends the command
 * (unless Ctrl-C came first) and tells `onStart`; the sources are stopped when either fails.
 */
async function sendRestart(
  request: RestartRequest,
  prepared: Prepared,
  deps: RestartDeps,
): Promise<{before?: BeforeSignal; check?: CheckSummary; resume?: string; start: RestartStart; startedAt: number}> {
  const master = masterOf(request.to)
  let before: BeforeSignal | undefined
  let check: CheckSummary | undefined
  let delivery: Delivery
  let startedAt: number
  try {
    // Ctrl-C during the preparations: nothing has been sent yet, and nothing will be.
    refuseIfInterrupted(request.signal)
    check = await proveReleaseBoots(request, prepared.checks, deps)
    refuseIfInterrupted(request.signal)
    startedAt = deps.clock.now()
    // The kernel's picture just before the signal: what "new since the signal" is measured against
    // (also under --no-wait, for the resume token: a few cheap reads).
    before = master ? readBeforeSignal(master.pid, deps.kernel) : undefined
    if (master && request.wait && !before) prepared.checks.warnings.push(uncheckedWarning(master.pid))
    delivery = await deps.deliver(commandOf(request), request.to, {
      via: request.via,
      signal: request.signal,
    })
  } catch (error) {
    prepared.stopSources.abort()
    await prepared.journal?.stop() // journalctl reaped before ctl exits
    throw error
  }

  const {logs, journalUnit} = prepared
  const start: RestartStart = {
    ...delivery,
    pid: master?.pid,
    logs: journalUnit ? [...logs, {path: `journal of ${describeJournalUnit(journalUnit)}`}] : logs,
    stats: Boolean(prepared.confirmControl),
    preflight: prepared.checks,
    ...(check && {check}),
  }
  request.onStart?.(start)
  const resume = before && master && resumeOf(request, prepared, {before, master, startedAt}, deps)
  return {before: request.wait ? before : undefined, check, resume, start, startedAt}
}

/** The token `ctl wait --since` takes: the baseline of this restart (resume-token.ts). */
function resumeOf(
  request: RestartRequest,
  prepared: Prepared,
  {before, master, startedAt}: {before: BeforeSignal; master: {pid: number; startTicks?: number}; startedAt: number},
  deps: RestartDeps,
): string {
  return encodeResume(
    resumeTokenOf({
      before,
      kind: request.refork ? 'refork' : request.kind,
      logs: prepared.logs.map((log, i) => ({path: log.path, ...prepared.positions[i]})),
      master: {startTicks: master.startTicks, startedAt: deps.readProcessDetails(master.pid)?.startedAt},
      oldRelease: prepared.oldRelease,
      phase: prepared.statsBefore?.phase,
      sentAt: startedAt,
      startTicksOf: (pid) => deps.kernel.startTicks?.(pid),
    }),
  )
}

/** The line that says how to follow a restart ctl left: `ctl wait --since TOKEN`. */
export const resumeLine = (resume: string) => `To follow it to its verdict: ctl wait --since ${resume}`

/** An interrupted wait hands on its token: the restart goes on, and `ctl wait --since` can follow it. */
export function resumable(error: unknown, resume: string | undefined): unknown {
  if (!resume || !hasExitCode(error, EXIT.interrupted)) return error
  return new CtlError('interrupted', error.message, {
    data: {...error.data, resume},
    details: [...error.details, resumeLine(resume)],
    suggestion: error.suggestion,
  })
}

function sentReport(request: RestartRequest, start: RestartStart, resume: string | undefined): SentReport {
  const to = start.pid === undefined ? "Puma's control server" : `Puma master ${start.pid}`
  return {
    waited: false,
    outcome: 'sent',
    exitCode: 0,
    restart: request.refork ? 'refork' : request.kind,
    pid: start.pid,
    sent: start.sent,
    via: start.via,
    logs: [],
    ...(resume && {resume}),
    warnings: [...start.preflight.warnings, ...start.warnings],
    summary: `Sent ${start.sent} to ${to}; not waiting (--no-wait): whether the restart works is not known`,
  }
}

/** Without /proc (another platform, hidepid, a master ctl may not see), the log's claims go unchecked: said once. */
function uncheckedWarning(pid: number): string {
  return `the kernel shows nothing of master ${pid} and its workers (no /proc, or hidden from this user): log lines are not checked against it, so app output could pass for Puma's`
}

function commandOf(request: RestartRequest): DeliverableCommand {
  if (request.refork) return 'refork'
  return request.kind === 'phased' ? 'phased-restart' : 'restart'
}

function outcomeError(report: RestartOutcome & {logs: string[]}): CtlError {
  // The summary already says what still serves; the details are the evidence.
  const details = [...report.errorLines]
  if (report.errorLinesOmitted > 0)
    details.push(`… ${report.errorLinesOmitted} more lines in ${report.logs.join(', ')}`)
  return new CtlError(exitNameOf(report.exitCode), report.summary, {details, data: {...report}})
}
