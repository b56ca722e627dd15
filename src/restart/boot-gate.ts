import {resolve} from 'node:path'

import {CtlError, refuseIfInterrupted, usageError} from '../errors.js'
import {masterOf} from '../target/reach.js'
import {type PumaMaster} from '../target/scan.js'
import {type BootCheckResult} from './boot-check.js'
import {type RestartDeps} from './deps.js'
import {type Preflight, preloadsByDefault} from './preflight.js'
import {type RestartRequest} from './run.js'

/** What the report and --json say of the check. */
export interface CheckSummary {
  durationMs: number
  error?: string
  folder?: string
  how: 'command' | 'puma'
  ok: boolean
}

/** Default --check-timeout: a Rails app loads in seconds; one that needs a minute is worth knowing about. */
export const CHECK_TIMEOUT_SECONDS = 60

/**
 * Proves the new release boots before a signal that could kill the master (see wantsBootCheck).
 * A failure throws exit 5 and nothing is sent; no check possible (no master known, /proc hidden):
 * a warning when ctl chose the check, an error when the user asked for it.
 */
export async function proveReleaseBoots(
  request: RestartRequest,
  checks: Preflight,
  deps: Pick<RestartDeps, 'checkBoot'>,
): Promise<CheckSummary | undefined> {
  const master = masterOf(request.to)
  if (!wantsBootCheck(request, checks, master)) return undefined
  const asked = request.check === true || request.checkCommand !== undefined
  const result: BootCheckResult = master
    ? await deps.checkBoot(master.pid, {
        command: request.checkCommand,
        // -F as ctl was given it: relative to where ctl runs, not to the app folder the check runs in
        configFile: request.configFile === undefined ? undefined : resolve(request.cwd ?? '.', request.configFile),
        timeoutMs: request.checkTimeoutMs ?? CHECK_TIMEOUT_SECONDS * 1000,
        signal: request.signal,
      })
    : {
        durationMs: 0,
        how: 'puma',
        lines: [],
        linesOmitted: 0,
        ok: false,
        unavailable: 'only its control server is known, not the master process',
        warnings: [],
      }
  // Ctrl-C killed the check: its failure says nothing of the release.
  refuseIfInterrupted(request.signal)
  checks.warnings.push(...result.warnings)
  if (result.unavailable !== undefined) {
    const why = `the new release was not checked before the restart: ${result.unavailable}`
    if (asked)
      throw usageError(why, {
        suggestion: 'name the master (--pidfile, --pid, --dir) and run ctl as root or as its user, or pass --no-check',
      })
    checks.warnings.push(why)
    return undefined
  }

  if (master?.version && result.pumaVersion && result.pumaVersion !== master.version)
    checks.warnings.push(
      `the boot check loaded Puma ${result.pumaVersion}, but the master runs Puma ${master.version}: the release was checked with another Puma than the one that will load it`,
    )
  const summary: CheckSummary = {ok: result.ok, durationMs: result.durationMs, how: result.how, folder: result.folder}
  if (result.ok) return summary
  const details = [...result.lines]
  if (result.linesOmitted > 0) details.push(`… ${result.linesOmitted} more lines`)
  throw new CtlError(
    'workerFailed',
    `the new release does not boot: ${result.error}; the running server was not touched`,
    {
      details,
      suggestion: `fix the release in ${result.folder ?? 'the app folder'} and restart again (--no-check skips this check)`,
      data: {outcome: 'check-failed', sent: false, check: {...summary, error: result.error, lines: result.lines}},
    },
  )
}

/**
 * Whether to prove the release boots before the signal: always before a hot restart (USR2, or a
 * USR1 Puma turns into one: preload_app!, single mode, Puma 7+'s default preload), never for a
 * phased restart Puma really does as phased (a worker that fails to boot is contained there) or a
 * refork (no new code). `--check` (or --check-command) forces it, `--no-check` skips it.
 */
export function wantsBootCheck(
  request: {check?: boolean; checkCommand?: string; kind: 'hot' | 'phased'; refork?: boolean},
  checks: Pick<Preflight, 'phasedAvailable'>,
  master: PumaMaster | undefined,
): boolean {
  if (request.check !== undefined) return request.check
  if (request.checkCommand !== undefined) return true
  if (request.refork) return false
  return request.kind === 'hot' || mayBeHot(checks, master)
}

/** What a USR1 does, as preflight tells it: hot when phased is not available, or Puma 7+ preloads by default with nothing against it. */
export function mayBeHot(checks: Pick<Preflight, 'phasedAvailable'>, master: PumaMaster | undefined): boolean {
  return checks.phasedAvailable === false || (checks.phasedAvailable === undefined && preloadsByDefault(master))
}
