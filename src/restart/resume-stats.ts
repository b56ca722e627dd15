import {type PumaStats, type WorkerStats} from '../control/stats.js'
import {CtlError, EXIT, usageError} from '../errors.js'
import {masterOf} from '../target/reach.js'
import {type RestartDeps} from './deps.js'
import {type ResumeToken} from './resume-token.js'
import {type Baseline, type WaitRequest} from './resume.js'
import {type BeforeSignal, readBeforeSignal} from './witness.js'

/**
 * `ctl wait` through /stats: where Puma itself says which workers are old (a worker's phase below
 * the master's), or which were there at the signal (the token's family). The wait then follows
 * /stats from a starting point in which the old workers are as they are and every other worker is
 * not yet booted: each one's boot, and the new phase, are the first changes the machine reads.
 */

/** Every worker on the master's phase and booted: ctl can say that, and no more (a finished restart looks the same). */
export interface QuietReport {
  exitCode: 0
  outcome: 'no-restart-seen'
  phase?: number
  summary: string
  waited: false
  warnings: string[]
  workers: Array<Pick<WorkerStats, 'booted' | 'index' | 'phase' | 'pid'>>
}

const SINCE_HINT = 'pass --since with the `resume` value `ctl phased-restart --no-wait` printed'

export async function statsBaseline(
  request: WaitRequest,
  fromToken: undefined | {before: BeforeSignal; token: ResumeToken},
  deps: RestartDeps,
): Promise<Baseline | QuietReport> {
  const {control} = request.to
  const why = fromToken ? 'the restart in --since was followed without a log file' : 'without --since'
  if (!control)
    throw usageError(
      `cannot wait: ${why}, only Puma's /stats can tell old workers from new, and no control server is known`,
      {suggestion: fromToken ? 'pass --state or --control-url' : `${SINCE_HINT}, or --state or --control-url`},
    )
  if (fromToken?.token.kind === 'hot')
    throw usageError(`cannot wait: ${why}, and /stats does not show a hot restart under way`)
  const stats = await deps.fetchStats(control, {signal: request.signal}).catch((error: unknown) => {
    throw silentControl(error, request, deps) ?? error
  })
  if (stats.mode === 'single')
    throw usageError(`cannot wait: ${why}, and in single mode /stats does not show a restart under way`, {
      suggestion: fromToken ? undefined : SINCE_HINT,
    })
  const phase = stats.phase ?? 0
  const oldPids = fromToken && new Set(fromToken.before.family.map((member) => member.pid))
  const isOld = (worker: WorkerStats) => (oldPids ? oldPids.has(worker.pid) : worker.phase < phase)
  if (!fromToken && stats.workerStatus.every((worker) => !isOld(worker) && worker.booted)) return quietReport(stats)
  const previous = fromToken ? fromToken.token.phase : phase - 1
  if (previous === undefined)
    throw usageError(`cannot wait: ${why}, and /stats did not answer when it was sent, so its phase then is not known`)
  const origin: PumaStats = {
    ...stats,
    phase: previous,
    workerStatus: stats.workerStatus.map((worker) => (isOld(worker) ? worker : {...worker, booted: false})),
  }
  const before = fromToken?.before ?? kernelNow(request, stats, isOld, deps)
  const inFamily = (pid: number) => !before || before.family.some((member) => member.pid === pid)
  const old = stats.workerStatus.filter((worker) => isOld(worker) && inFamily(worker.pid))
  const onPhase = stats.workerStatus.filter((worker) => worker.phase === phase && worker.booted).length
  return {
    before,
    kind: fromToken?.token.kind ?? 'phased',
    headline: `Following the phased restart under way (from /stats): phase ${phase}, ${onPhase} of ${stats.workerStatus.length} workers booted on it`,
    prepared: {
      checks: {
        mode: 'cluster',
        workers: old.map(({index, pid}) => ({index, pid})),
        warnings: [],
        logAttributable: true,
      },
      hasLog: false,
      logs: [],
      positions: [],
      statsBefore: origin,
      stallMs: request.stallMs || undefined, // as given: ctl wait derives no default
      stopSources: new AbortController(),
    },
  }
}

/**
 * A control server that does not answer while its master runs: a hot restart closes it until the
 * master has loaded the app again, so "no master" (exit 3) would be untrue. Exit 2: /stats cannot tell.
 */
function silentControl(error: unknown, request: WaitRequest, deps: RestartDeps): CtlError | undefined {
  const master = masterOf(request.to)
  if (!(error instanceof CtlError) || error.exitCode !== EXIT.noMaster || !master) return undefined
  if (deps.hasExited(master.pid, master.startTicks)) return undefined
  return usageError(
    `cannot wait: Puma's control server does not answer while master ${master.pid} runs (a hot restart closes it until the app has loaded again), and without a log only /stats could tell old workers from new`,
    {suggestion: request.since ? undefined : SINCE_HINT},
  )
}

/** The kernel's family now, less the workers /stats shows on the new phase: they are new since the restart began. */
function kernelNow(
  request: WaitRequest,
  stats: PumaStats,
  isOld: (worker: WorkerStats) => boolean,
  deps: RestartDeps,
): BeforeSignal | undefined {
  const master = masterOf(request.to)
  const now = master && readBeforeSignal(master.pid, deps.kernel)
  if (!now) return undefined
  const fresh = new Set(stats.workerStatus.filter((worker) => !isOld(worker)).map((worker) => worker.pid))
  return {...now, family: now.family.filter((member) => !fresh.has(member.pid))}
}

function quietReport(stats: PumaStats): QuietReport {
  const phase = stats.phase ?? 0
  return {
    waited: false,
    outcome: 'no-restart-seen',
    exitCode: 0,
    phase: stats.phase,
    workers: stats.workerStatus.map(({booted, index, phase, pid}) => ({index, pid, phase, booted})),
    warnings: [],
    summary: `Every worker runs phase ${phase}, booted: no restart under way that ctl can see (without --since it cannot tell a finished restart from one not begun)`,
  }
}
