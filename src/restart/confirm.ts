import {type ControlEndpoint} from '../control/client.js'
import {statsConfirm} from '../control/stats-events.js'
import {CtlError, EXIT, hasExitCode} from '../errors.js'
import {masterOf} from '../target/reach.js'
import {pollUntil} from '../wait/poll.js'
import {checkReleaseDir} from './checks.js'
import {type RestartDeps} from './deps.js'
import {type RestartOutcome, type RestartState} from './machine.js'
import {type RestartReport, type RestartRequest} from './run.js'
import {interrupted, liveControl, statsCadence} from './wait.js'

/** The log said done; /stats must agree (every worker booted in the phase, none old) before exit 0. */
export async function confirmWithStats(
  control: ControlEndpoint,
  state: RestartState,
  request: RestartRequest,
  deps: RestartDeps,
): Promise<void> {
  const outcome = state.outcome!
  const phase = outcome.restart === 'hot' ? 0 : outcome.phase
  const live = liveControl(control, masterOf(request.to)?.pid, deps)
  // A hot restart is a new boot: a new token, and a new socket for a bare activate_control_app, unless the config pins them.
  if (outcome.restart === 'hot') await live.renew()
  let disagreement: string | undefined
  const cadence = statsCadence()
  const look = async () => {
    try {
      disagreement = statsConfirm(await live.stats({signal: request.signal, timeoutMs: 5000}), phase)
    } catch (error) {
      if (!hasExitCode(error, EXIT.noMaster)) throw error
      disagreement = 'the control server did not answer'
    }

    return disagreement === undefined ? true : undefined
  }

  const polled = await pollUntil(look, {
    clock: deps.clock,
    deadline: state.plan.startedAt + request.timeoutMs,
    intervalMs: () => cadence.next(),
    signal: request.signal,
    lookOnceIfAborted: true,
  })
  if (polled.status === 'done') return
  if (request.signal.aborted) throw interrupted(`the log showed the restart done; ${disagreement}`)
  throw new CtlError(
    'timedOut',
    `the log showed the restart done, but ${disagreement} (after ${request.timeoutMs / 1000} s)`,
  )
}

/** The restart finished: now the checks that a signal alone never reveals (--expect-dir, --health-url). */
export async function checkAfterRestart(
  report: RestartReport & {waited: true},
  request: RestartRequest,
  deps: RestartDeps,
): Promise<void> {
  const masterPid = masterOf(request.to)?.pid
  if (request.expectDir !== undefined)
    checkReleaseDir(newProcesses(report, masterPid), request.expectDir, deps.readProcessDetails)
  if (request.healthUrl !== undefined) {
    report.health = await deps.probeHealth(request.healthUrl, {
      timeoutMs: request.healthTimeoutMs ?? 10_000,
      signal: request.signal,
      clock: deps.clock,
    })
  }
}

/** The processes that run the new code: the new workers, or the master itself in single mode. */
function newProcesses(report: RestartOutcome, masterPid: number | undefined): number[] {
  const workers = report.workers.map((worker) => worker.newPid)
  return workers.length > 0 || masterPid === undefined ? workers : [masterPid]
}
