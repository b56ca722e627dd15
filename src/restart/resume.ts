import {CtlError, EXIT, usageError} from '../errors.js'
import {type LogPosition} from '../log/follow.js'
import {locateLogs, type LogSource} from '../log/locate.js'
import {parseLine} from '../log/parse.js'
import {linesSince} from '../log/replay.js'
import {type ProcessDetails} from '../target/process-table.js'
import {masterOf, type Reach} from '../target/reach.js'
import {type PumaMaster} from '../target/scan.js'
import {resolveDir, validateHealthUrl} from './checks.js'
import {realRestartDeps, type RestartDeps} from './deps.js'
import {type RestartState} from './machine.js'
import {preflight} from './preflight.js'
import {attributableLogs, type Prepared} from './prepare.js'
import {type QuietReport, statsBaseline} from './resume-stats.js'
import {beforeOf, encodeResume, type ResumeLog, type ResumeToken} from './resume-token.js'
import {type RestartReport, type RestartRequest, type RestartStart, resumable, settle} from './run.js'
import {namedPid, waitForOutcome} from './wait.js'
import {type BeforeSignal} from './witness.js'

/** `ctl wait`: what to follow, and how long; nothing is ever sent to Puma. */
export interface WaitRequest {
  expectDir?: string
  healthTimeoutMs?: number
  healthUrl?: string
  onStart?: (start: RestartStart) => void
  onUpdate?: (state: RestartState) => void
  signal: AbortSignal
  /** From `--since`: the restart's baseline; without it only /stats's phases can tell old workers from new. */
  since?: ResumeToken
  soakMs?: number
  stallMs?: number
  timeoutMs: number
  to: Reach
}

export type WaitReport = QuietReport | RestartReport

/** What the wait knows before it follows anything: the same shape a restart prepares. */
export interface Baseline {
  before?: BeforeSignal
  /** Workers the log named before `ctl wait` began that were gone by then: new since the signal, as far as can be told. */
  gone?: number[]
  headline: string
  kind: ResumeToken['kind']
  prepared: Prepared
}

/**
 * Follows a restart already under way (or over) to the verdict a restart command would have given,
 * with the same machine, sources and checks: from the token's baseline (its logs from where they
 * ended at the signal, its family as the old workers), or else from /stats's phases. The timeout
 * counts from now.
 */
export async function waitForRestart(request: WaitRequest, deps: RestartDeps = realRestartDeps): Promise<WaitReport> {
  if (request.expectDir !== undefined) resolveDir(request.expectDir)
  if (request.healthUrl !== undefined) validateHealthUrl(request.healthUrl)
  const baseline = request.since
    ? await tokenBaseline(request, request.since, deps)
    : await statsBaseline(request, undefined, deps)
  if ('outcome' in baseline) return baseline
  const restart = restartRequestOf(request, baseline.kind)
  const {prepared} = baseline
  const master = masterOf(request.to)
  request.onStart?.({
    sent: 'nothing',
    via: 'signal',
    warnings: [],
    headline: baseline.headline,
    logs: prepared.logs,
    pid: master?.pid,
    preflight: prepared.checks,
    stats: Boolean(prepared.confirmControl) || !prepared.hasLog,
  })
  const signalled = {at: deps.clock.now(), before: baseline.before, seen: baseline.gone}
  // Interrupted again: the same token follows it later.
  const again = (error: unknown) => resumable(error, request.since && encodeResume(request.since))
  const state = await waitForOutcome(restart, prepared, signalled, deps).catch((error: unknown) => {
    throw again(error)
  })
  return settle(restart, {prepared, state}, deps).catch((error: unknown) => {
    throw again(error)
  })
}

/** The restart request the shared wait reads: the same fields a restart command fills in. */
function restartRequestOf(request: WaitRequest, kind: ResumeToken['kind']): RestartRequest {
  return {
    kind: kind === 'hot' ? 'hot' : 'phased',
    refork: kind === 'refork',
    to: request.to,
    via: 'signal',
    wait: true,
    signal: request.signal,
    timeoutMs: request.timeoutMs,
    soakMs: request.soakMs,
    stallMs: request.stallMs,
    expectDir: request.expectDir,
    healthUrl: request.healthUrl,
    healthTimeoutMs: request.healthTimeoutMs,
    onUpdate: request.onUpdate,
  }
}

/** The master the token was made for, or exit 2 saying which master that was. */
export function assertSameMaster(token: ResumeToken, master: PumaMaster | undefined, startedAt?: Date): PumaMaster {
  const then = `the restart in --since was sent to master ${token.master.pid}${token.master.startedAt ? ` started at ${token.master.startedAt}` : ''}`
  if (!master)
    throw usageError(`${then}; ctl found only a control server here`, {
      suggestion: 'name the master itself (--pidfile, --state, --pid, --dir or --tag)',
    })
  const known = token.master.startTicks !== undefined && master.startTicks !== undefined
  if (master.pid === token.master.pid && (!known || master.startTicks === token.master.startTicks)) return master
  const here = `${master.pid}${startedAt ? ` started at ${startedAt.toISOString()}` : ''}`
  throw usageError(`${then}; the master here is ${here}`)
}

/**
 * The token's baseline: its logs from where each ended at the signal (a rotated or truncated file
 * said so and read from its start), its family as what was there before, and the pre-flight's
 * reading of the log (a log without the master's [pid] prefix is not trusted, as for a restart).
 */
async function tokenBaseline(
  request: WaitRequest,
  given: ResumeToken,
  deps: RestartDeps,
): Promise<Baseline | QuietReport> {
  const found = masterOf(request.to)
  const details = found && deps.readProcessDetails(found.pid)
  const master = assertSameMaster(given, found, details?.startedAt)
  // Another user's master hides where it writes (/proc/PID/fd): its logs would be called not its own.
  if (given.logs.length > 0 && !details?.stdout && !details?.stderr) mayFollow(master, deps)
  const before = beforeOf(given, (pid) => deps.kernel.startTicks?.(pid))
  assertFitsKernel(given, before, details?.startedAt, deps)
  const strays: string[] = []
  const token = {...given, logs: await mastersOwnLogs(given, details, deps, strays)}
  if (token.logs.length === 0) return statsBaseline(request, {before, token}, deps)
  const logs: LogSource[] = token.logs.map(({path}) => ({path}))
  const warnings = [...strays, ...(await movedLogs(token, deps))]
  const checks = await preflight({master, logPaths: logs.map((log) => log.path), folder: details?.cwd}, 'hot')
  checks.mode = before.family.some((member) => member.worker) ? 'cluster' : 'single'
  checks.workers = before.family.filter((member) => member.worker).map(({index, pid}) => ({index, pid}))
  checks.warnings.push(...warnings)
  const restart = restartRequestOf(request, token.kind)
  const statsNow =
    request.to.control && (await deps.fetchStats(request.to.control, {signal: request.signal}).catch(() => undefined))
  const followed = attributableLogs(restart, logs, checks, statsNow)
  if (followed.length === 0) return statsBaseline(request, {before, token}, deps)
  return {
    before,
    gone: await goneSinceSignal(token, before, deps),
    kind: token.kind,
    headline: `Following the restart sent to Puma master ${master.pid} at ${new Date(token.sentAt).toISOString()}; reading ${followed.map((log) => log.path).join(' and ')} from where it ended then${statsNow ? ', confirming with /stats' : ''}`,
    prepared: {
      checks,
      confirmControl: statsNow ? request.to.control : undefined,
      hasLog: true,
      logs: followed,
      // One position per followed log, in its order (attributableLogs may have left one out).
      positions: followed.map((log) => positionOf(token.logs.find((entry) => entry.path === log.path)!)),
      oldRelease: token.oldRelease,
      stallMs: request.stallMs || undefined, // as given: ctl wait derives no default
      stopSources: new AbortController(),
    },
  }
}

/** Exit 4 when the master runs as another user (the same check as before a signal), in words for a wait. */
function mayFollow(master: PumaMaster, deps: Pick<RestartDeps, 'assertMaySignal'>): void {
  try {
    deps.assertMaySignal(master)
  } catch (error) {
    if (!(error instanceof CtlError) || error.exitCode !== EXIT.notPermitted) throw error
    throw new CtlError(
      'notPermitted',
      `cannot follow the restart of master ${master.pid}: it runs as another user, whose log and workers ctl may not read`,
      {suggestion: error.suggestion},
    )
  }
}

/** Start times from /proc are whole-second boot time plus ticks: two readings of one instant differ by up to a second. */
const START_SLACK_MS = 2000

/**
 * The token's times against the kernel's, exit 2 when they do not fit: a token is its bearer's
 * text, and a family that leaves out workers running since before the signal would count them, and
 * their old boot lines, as new (a false success); a master started after the signal is another
 * process with a reused PID (a token without start ticks cannot say so otherwise).
 */
export function assertFitsKernel(
  token: ResumeToken,
  before: BeforeSignal,
  masterStartedAt: Date | undefined,
  deps: Pick<RestartDeps, 'clock' | 'kernel' | 'readProcessDetails'>,
): void {
  const sent = new Date(token.sentAt).toISOString()
  const misfit = (why: string) =>
    usageError(`--since does not fit master ${token.master.pid}: ${why}`, {
      suggestion: 'pass the `resume` value the restart of this master printed, as it is',
    })
  if (token.sentAt > deps.clock.now() + START_SLACK_MS) throw misfit(`its restart was sent at ${sent}, later than now`)
  if (masterStartedAt && masterStartedAt.getTime() > token.sentAt + START_SLACK_MS)
    throw misfit(`the master here started at ${masterStartedAt.toISOString()}, after the restart was sent (${sent})`)
  // The master's threads too: a server thread left out of `tids` would count as a re-executed master serving anew.
  const named = new Set([...before.family.map((member) => member.pid), ...before.masterTids])
  const live = (deps.kernel.family(before.masterPid) ?? []).filter((member) => !member.zombie)
  const ids = [...live.map((member) => member.pid), ...deps.kernel.threads(before.masterPid).map((t) => t.tid)]
  for (const id of ids) {
    if (named.has(id)) continue
    // /proc/ID/stat answers for a thread's ID as for a process's
    const started = deps.readProcessDetails(id)?.startedAt
    if (started && started.getTime() < token.sentAt - START_SLACK_MS)
      throw misfit(
        `its ${live.some((member) => member.pid === id) ? 'process' : 'thread'} ${id} has run since ${started.toISOString()}, before the restart was sent (${sent}), and the token does not name it`,
      )
  }
}

const positionOf = ({dev, ino, offset}: ResumeLog): LogPosition => ({dev, ino, offset})

/**
 * The token's logs that the master writes to now (its stdout or stderr, by path, or by inode when
 * the file was renamed since): a token is text its bearer can write, and must not make ctl read a
 * file of its choosing. A log it names that the master does not write to is said and not read.
 */
async function mastersOwnLogs(
  token: ResumeToken,
  details: ProcessDetails | undefined,
  deps: RestartDeps,
  warnings: string[],
): Promise<ResumeLog[]> {
  const own = await Promise.all(
    locateLogs(details, undefined).map(async ({path}) => ({path, ...(await deps.logEnd(path))})),
  )
  const logs: ResumeLog[] = []
  for (const log of token.logs) {
    const same = own.find(
      (file) => file.path === log.path || (file.ino !== 0 && file.dev === log.dev && file.ino === log.ino),
    )
    if (same) logs.push({...log, path: same.path})
    else warnings.push(`--since names a log master ${token.master.pid} does not write to (${log.path}): not read`)
  }

  return logs
}

/** How much of each log `ctl wait` reads ahead for the workers it names: more than a crash loop writes in minutes. */
const REPLAY_SCAN_BYTES = 8 * 1024 * 1024

/**
 * The workers the logs named between the signal and now that are gone now: a worker that failed to
 * boot before `ctl wait` began left no trace in the kernel, only its lines. They count as forked
 * since the signal (PIDs of the family at the signal, or of live processes, keep the kernel's word):
 * only failures can be read from them, so a forged one can make the wait fail, never succeed.
 */
async function goneSinceSignal(token: ResumeToken, before: BeforeSignal, deps: RestartDeps): Promise<number[]> {
  const gone = new Set<number>()
  const known = new Set([before.masterPid, ...before.family.map((member) => member.pid)])
  for (const log of token.logs) {
    // eslint-disable-next-line no-await-in-loop -- one bounded read per log, a handful at most
    for (const line of await linesSince(log.path, log, REPLAY_SCAN_BYTES)) {
      const pid = namedPid(parseLine(line))
      if (pid === undefined || known.has(pid)) continue
      const facts = deps.kernel.process(pid)
      if (!facts || facts.zombie) gone.add(pid)
    }
  }

  return [...gone]
}

/**
 * The logs that are no longer the file they were at the signal: rotated (another inode at the path)
 * or truncated. The follower reads such a file from its start; what the old file got after the
 * signal is not read, which a warning says (its error lines may be missing from the verdict).
 */
async function movedLogs(token: ResumeToken, deps: RestartDeps): Promise<string[]> {
  const warnings: string[] = []
  for (const log of token.logs) {
    // eslint-disable-next-line no-await-in-loop -- one stat per log, a handful at most
    const now = await deps.logEnd(log.path)
    if (log.ino === 0) continue // the file did not exist at the signal: it is read from its start anyway
    if (now.dev !== log.dev || now.ino !== log.ino)
      warnings.push(
        `${log.path} is another file than at the signal (rotated): ctl reads the new one from its start; what the old one got after the signal is not read`,
      )
    else if (now.offset < log.offset)
      warnings.push(`${log.path} is shorter than at the signal (truncated): ctl reads it from its start`)
  }

  return warnings
}

/** The restart's master is gone: its verdict is exit 7, as the wait would have given, when the token's master exited. */
export function masterGone(token: ResumeToken): CtlError {
  const started = token.master.startedAt ? ` (started at ${token.master.startedAt})` : ''
  const logs = token.logs.map((log) => log.path).join(', ')
  return new CtlError(
    'masterDied',
    `Puma master ${token.master.pid}${started}, to which the restart in --since was sent, has exited: nothing of it serves`,
    {
      data: {outcome: 'master-died', pid: token.master.pid},
      suggestion: logs ? `its last lines are in ${logs}` : undefined,
    },
  )
}
