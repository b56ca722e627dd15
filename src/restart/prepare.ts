import {resolve} from 'node:path'

import {type ControlEndpoint} from '../control/client.js'
import {hasUnbooted, type PumaStats} from '../control/stats.js'
import {usageError} from '../errors.js'
import {type LogPosition} from '../log/follow.js'
import {type JournalFollower, type JournalUnit} from '../log/journal.js'
import {checkFollowable, locateLogs, type LogSource} from '../log/locate.js'
import {type ProcessDetails} from '../target/process-table.js'
import {masterOf} from '../target/reach.js'
import {sleep} from '../wait/clock.js'
import {mayBeHot} from './boot-gate.js'
import {releaseFolderWarning} from './checks.js'
import {type RestartDeps} from './deps.js'
import {holdsApp, oldReleaseOf} from './old-release.js'
import {type Preflight, preflight} from './preflight.js'
import {type RestartRequest} from './run.js'
import {defaultStallMs} from './stall-default.js'

/** Puma 5+ respawns a failing worker at once: a crash-looping worker has a new PID within this. */
const CRASH_LOOP_LOOK_MS = 200

/** What the restart knows before it sends anything. */
export interface Prepared {
  checks: Preflight
  /** Set when /stats answered before the signal: it then confirms the log's verdict. */
  confirmControl?: ControlEndpoint
  /** A log file or the journal is followed; otherwise /stats is the only source. */
  hasLog: boolean
  /** The journal, followed from before the signal on (only when waiting). */
  journal?: JournalFollower
  journalUnit?: JournalUnit | string
  logs: LogSource[]
  /** The folder the running workers came from (src/restart/old-release.ts): named when the restart fails. */
  oldRelease?: string
  /** Where each of `logs` ended before the signal. */
  positions: LogPosition[]
  /** --stall-timeout as given, else its default from Puma's timeouts (src/restart/stall-default.ts); undefined: off. */
  stallMs?: number
  statsBefore?: PumaStats
  /** Stops the journal and every source of the wait: aborted when the wait ends, or when sending fails. */
  stopSources: AbortController
}

/**
 * Everything before the signal: which log to follow (a file, else the journal, else /stats), what
 * /stats says, the pre-flight warnings, where the logs end now, and journalctl running.
 */
export async function prepareRestart(request: RestartRequest, deps: RestartDeps): Promise<Prepared> {
  const {kind} = request
  const master = masterOf(request.to)
  // What /proc says of the master (its stdout, stderr and folder), read once for the preparations.
  const details = master === undefined ? undefined : deps.readProcessDetails(master.pid)
  const found = await findLog(request, {details, pid: master?.pid}, deps)
  const {journalUnit} = found
  const stats = await askStats(request, found.logs.length > 0 || Boolean(journalUnit), deps)
  const checks = await preflight(
    {
      master,
      stats: stats.before,
      statsLater: stats.later,
      logPaths: found.logs.map((log) => log.path),
      folder: details?.cwd,
      masterChildren: master === undefined ? undefined : deps.kernel.children(master.pid),
    },
    request.refork ? 'refork' : kind,
  )
  // How the master was found (a stale default file passed over) comes first.
  if (request.to.kind === 'master') checks.warnings.unshift(...(request.to.target.warnings ?? []))
  checks.warnings.push(...stats.warnings)
  const logs = attributableLogs(request, found.logs, checks, stats.before)
  const hasLog = logs.length > 0 || Boolean(journalUnit)
  const pitfall =
    kind === 'phased' && details ? releaseFolderWarning(details, request.expectDir, deps.readEnvironment) : undefined
  if (pitfall) checks.warnings.push(pitfall)
  // Remember where each log ends before the signal: only what the restart writes is read.
  const positions = await Promise.all(logs.map((log) => deps.logEnd(log.path)))
  const stopSources = new AbortController()
  const journal = request.wait && journalUnit ? await startFollowingJournal(journalUnit, stopSources, deps) : undefined
  return {
    checks,
    confirmControl: stats.before ? request.to.control : undefined,
    hasLog,
    journal,
    journalUnit,
    logs,
    oldRelease:
      master &&
      oldReleaseOf(
        master.pid,
        checks.workers.map((worker) => worker.pid),
        (pid) => (pid === master.pid ? details : deps.readProcessDetails(pid)),
        holdsApp,
      ),
    positions,
    stallMs: await stallMsFor(request, checks, details?.cwd, deps),
    statsBefore: stats.before,
    stopSources,
  }
}

/**
 * --stall-timeout as given (0: off); otherwise, for a restart Puma will do as phased, one derived
 * from Puma's own timeouts where the master's config shows them; nothing for a hot restart.
 */
async function stallMsFor(
  request: RestartRequest,
  checks: Preflight,
  folder: string | undefined,
  deps: RestartDeps,
): Promise<number | undefined> {
  if (request.stallMs !== undefined) return request.stallMs || undefined
  const master = masterOf(request.to)
  if (!request.wait || request.start || request.kind !== 'phased' || !master || !folder) return undefined
  if (mayBeHot(checks, master)) return undefined
  const configFile = request.configFile === undefined ? undefined : resolve(request.cwd ?? '.', request.configFile)
  const timeouts = await deps.pumaTimeouts(folder, deps.readEnvironment(master.pid), configFile, master)
  return timeouts && defaultStallMs(timeouts, master.version)
}

/** The log files to follow, or the journal's unit; a usage error when the wait would have nothing to read. */
async function findLog(
  request: RestartRequest,
  {details, pid}: {details?: ProcessDetails; pid?: number},
  deps: RestartDeps,
): Promise<{journalUnit?: JournalUnit | string; logs: LogSource[]}> {
  const logs = request.journal ? [] : locateLogs(details, request.logPath, request.cwd)
  if (request.wait)
    for (const log of logs)
      checkFollowable(log.path, request.logPath ? `--log ${request.logPath}` : `Puma's log ${log.path}`)
  // Under systemd the master's stdout is the journal's socket: follow its unit's journal then.
  const journalUnit =
    request.journal ??
    (logs.length === 0 && pid !== undefined && !request.logPath ? await deps.journalUnitOf(pid) : undefined)
  if (request.wait && logs.length === 0 && !journalUnit && !request.to.control) {
    throw usageError(
      `cannot wait for the restart: Puma's log is not a file ctl can follow (the master's stdout is ${details?.stdout ?? 'unknown'}), and no control server is known`,
      {
        suggestion:
          'pass --log PATH (the file Puma logs to), --journal UNIT, --state (whose control server ctl can ask), or --no-wait to only send the signal',
      },
    )
  }

  return {logs, journalUnit}
}

/**
 * The logs worth following: none when Puma's lines in them carry no `[pid] ` prefix of the master
 * (a log_formatter without the PID), which app output could forge. /stats decides then, and
 * without a control server the wait would have nothing true to read: a usage error, before the signal.
 */
export function attributableLogs(
  request: RestartRequest,
  logs: LogSource[],
  checks: Preflight,
  statsBefore: PumaStats | undefined,
): LogSource[] {
  if (checks.logAttributable || logs.length === 0 || !request.wait) return logs
  const paths = logs.map((log) => log.path).join(', ')
  const why = `Puma's lines in ${paths} carry no [pid] prefix of the master (a log_formatter without the PID?), so they cannot be told from the app's output`
  if (statsBefore) {
    checks.warnings.push(`${why}: ctl follows /stats instead`)
    return []
  }

  throw usageError(`cannot wait for the restart: ${why}`, {
    suggestion:
      'put the PID in the log_formatter ("[#{Process.pid}] #{str}"), pass --state or --control-url so that /stats decides, or --no-wait to only send the signal',
  })
}

/**
 * /stats before the signal, and a second look when a worker is not booted (is it crash-looping?).
 * By signal with a log to follow, /stats only adds to the picture: a stale or refusing control
 * server is a warning then, and an error otherwise.
 */
async function askStats(
  request: RestartRequest,
  hasLog: boolean,
  deps: RestartDeps,
): Promise<{before?: PumaStats; later?: PumaStats; warnings: string[]}> {
  const {signal} = request
  const {control} = request.to
  if (!control) return {warnings: []}
  const warnings: string[] = []
  const before = await deps.fetchStats(control, {signal}).catch((error: Error) => {
    if (request.via === 'control' || !hasLog || signal.aborted) throw error
    warnings.push(`/stats is not available, so ctl follows the log alone: ${error.message}`)
    return undefined
  })
  if (!hasUnbooted(before)) return {before, warnings}
  await sleep(deps.clock, CRASH_LOOP_LOOK_MS, signal)
  return {before, later: await deps.fetchStats(control, {signal}), warnings}
}

/** journalctl must follow before the signal: `ready` says it does, or why it cannot. */
async function startFollowingJournal(
  unit: JournalUnit | string,
  stopSources: AbortController,
  deps: RestartDeps,
): Promise<JournalFollower> {
  const journal = deps.startJournal(unit, {signal: stopSources.signal})
  try {
    await journal.ready
  } catch (error) {
    stopSources.abort()
    throw error
  }

  return journal
}
