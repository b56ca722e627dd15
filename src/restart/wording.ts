import {parseLine, splitPrefix} from '../log/parse.js'
import {type Stall} from './stall.js'
import {
  bootedCount,
  type EarlyTermination,
  neededIndices,
  type PendingWorker,
  type RestartOutcome,
  type RestartState,
  type WorkerRecord,
} from './state.js'

/**
 * Every English sentence the restart machine produces: progress labels, notices, warnings, the
 * serving sentence and the summaries. The integration suite compares them byte for byte, and deploy
 * tools read them from --json: change them here only on purpose.
 */

export const FALLBACK_WARNING =
  'Puma cannot do a phased restart here (preload_app, the default with several workers since Puma 7, or single mode): ' +
  'it did a hot restart instead, restarting all workers at once'

export const UNANNOUNCED_HOT_WARNING =
  "Puma did a hot restart instead of the phased restart (a USR2 or Rails' tmp_restart came in, " +
  'or Puma 2.4 fell back silently because of preload_app): all workers restarted at once'

export const HOT_RESTART_STARTED = 'Puma is restarting (hot restart)'

export function phaseStartedMessage(phase: number, refork: boolean): string {
  return `Puma started ${refork ? 'a refork' : 'the phased restart'}: phase ${phase}`
}

export function overlappingPhaseWarning(phase: number, unfinished: number): string {
  return `Another phased restart (phase ${phase}) began before phase ${unfinished} finished; waiting for phase ${phase}`
}

export function skippedPhaseWarning(phase: number, previousPhase: number): string {
  return `Puma started phase ${phase}, not ${previousPhase + 1}: another phased restart or an automatic refork (fork_worker) came in at the same time`
}

export function suspectNotice(pid: number | undefined): string {
  const who = pid === undefined ? 'a worker' : `a worker (pid ${pid})`
  return `${who} failed to boot; waiting for Puma's next attempt (a worker started before the restart may still run the old code)`
}

export function bootFailedNotice(index: number | undefined, pid: number | undefined, line: string): string {
  return `${workerName(index, pid)} failed to boot: ${withoutPrefix(line)}`
}

export function earlyTerminationNotice({index, pid, source}: EarlyTermination): string {
  const who = index === undefined ? 'a new worker' : `new worker ${index}`
  if (source === 'stats') return `${who} (pid ${pid}) ended before it booted (as /stats shows)`
  return `a new worker (pid ${pid}) ended while booting ("Early termination of worker")`
}

/** Puma's messages are one line, but an exception's message can be a page: the headline keeps its start. */
const MAX_MESSAGE_CHARS = 200

/**
 * What Puma 6.0+ logs right after a worker's `! Unable to start worker`, in its prefix: the
 * exception's message (5.3.2–5.6 log a backtrace frame there instead, which is no message).
 * Undefined when the error lines hold no such line.
 */
export function bootErrorMessage(errorLines: readonly string[], pid: number | undefined): string | undefined {
  if (pid === undefined) return undefined
  const at = errorLines.findIndex((line) => {
    const event = parseLine(line)
    return event.kind === 'worker-boot-error' && event.prefixPid === pid
  })
  if (at === -1) return undefined
  const next = errorLines.slice(at + 1).find((line) => splitPrefix(line).prefixPid === pid)
  return next === undefined ? undefined : exceptionMessage(next)
}

/** The message of a worker's line after `! Unable to start worker`, unless it is a backtrace frame. */
export function exceptionMessage(line: string): string | undefined {
  const message = withoutPrefix(line).trim()
  if (message === '' || /^\S+:\d+:in [`']/.test(message)) return undefined
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message
}

/** A master's error line, as the user reads it. */
export function withoutPrefix(line: string): string {
  return splitPrefix(line).message
}

export function bootMessage(state: RestartState, record: WorkerRecord): string {
  const where = state.kind === 'hot' ? '' : ` in phase ${state.phase}`
  const details = [`pid ${record.newPid}`]
  if (record.oldPid !== undefined) details.push(`was ${record.oldPid}`)
  if (record.bootSeconds !== undefined) details.push(`${record.bootSeconds}s`)
  const who = record.index === undefined ? 'a worker' : `worker ${record.index}`
  return `${who} booted${where} (${details.join(', ')})`
}

export function soakStartedMessage(soakMs: number): string {
  return `every worker booted: soaking ${seconds(soakMs)} (a new worker that dies meanwhile fails the restart)`
}

export function progressLabel(state: RestartState): string {
  if (state.outcome) return state.outcome.summary
  if (state.status === 'failing') {
    const how = state.failure?.cause === 'died-in-soak' ? 'died during the soak' : 'failed to boot'
    return `${workerName(state.failure?.index, state.failure?.pid)} ${how}: reading its error`
  }

  if (state.status === 'soaking' && state.soak) {
    const left = Math.max(0, state.soak.endsAt - state.now)
    return `done, soaking: ${seconds(left)} left, ${bootCounts(state)}`
  }

  if (state.status === 'waiting') {
    if (state.plan.refork) return 'waiting for Puma to start the refork'
    return state.kind === 'phased' ? 'waiting for Puma to start the phased restart' : 'waiting for Puma to restart'
  }

  const counts = bootCounts(state)
  if (state.plan.start)
    return state.mode === 'single' || state.workers === 0 ? 'starting: loading the app' : `starting: ${counts}`
  if (state.kind === 'hot') return state.mode === 'single' ? 'hot restart: loading the app' : `hot restart: ${counts}`
  return `${state.refork ? 'refork, ' : ''}phase ${state.phase}: ${counts}`
}

/** Who serves while Puma retries a failing worker, from the counts the outcome computed. */
export function servingSentence(
  state: RestartState,
  counts: {newWorkers: number; oldWorkers: number; retryingIndex?: number},
): string {
  const {newWorkers, oldWorkers, retryingIndex} = counts
  const total = state.workers
  if (state.kind === 'hot') {
    return newWorkers === 0
      ? 'no worker serves: Puma keeps retrying'
      : `${newWorkers} of ${total} ${plural(total, 'worker')} ${verb(newWorkers, 'serve')}; Puma keeps retrying the rest`
  }

  const serving: string[] = []
  if (newWorkers > 0)
    serving.push(`${newWorkers} of ${total} ${plural(total, 'worker')} ${verb(newWorkers, 'run')} phase ${state.phase}`)
  if (oldWorkers > 0) {
    const who = newWorkers > 0 ? `${oldWorkers}` : `${oldWorkers} of ${total} ${plural(total, 'worker')}`
    serving.push(`${who} still ${verb(oldWorkers, 'run')} ${oldPhaseLabel(state)}`)
  }

  const retrying = `Puma keeps retrying ${retryingIndex === undefined ? 'a worker' : `worker ${retryingIndex}`}`
  return serving.length === 0 ? `no worker serves: ${retrying}` : `${serving.join(' and ')}; ${retrying}`
}

export function summarize(state: RestartState, outcome: RestartOutcome): string {
  return outcomeSentence(state, outcome) + releaseClause(state, outcome)
}

/**
 * A failure names the folder the workers ran before the signal, so that a deploy tool can roll
 * back to exactly that: where old workers still serve, theirs; otherwise what Puma ran before.
 */
function releaseClause(state: RestartState, outcome: RestartOutcome): string {
  if (outcome.oldRelease === undefined) return ''
  const oldStillRun =
    state.kind === 'phased' &&
    outcome.outcome !== 'master-died' &&
    (!outcome.started || (outcome.serving?.oldWorkers ?? outcome.pending.filter((p) => !p.stopped).length) > 0)
  return oldStillRun
    ? `; the old workers run ${outcome.oldRelease}`
    : `; before the restart Puma ran ${outcome.oldRelease}`
}

function outcomeSentence(state: RestartState, outcome: RestartOutcome): string {
  switch (outcome.outcome) {
    case 'done': {
      const soaked = outcome.soak ? `; soaked ${outcome.soak.seconds} s, every new worker still running` : ''
      return doneSummary(state, outcome) + soaked
    }

    case 'master-died': {
      if (state.plan.start) {
        const said =
          state.errorLines.length > 0
            ? `: ${withoutPrefix(state.errorLines[0])}`
            : " (it logged no error: see Puma's log)"
        return `Puma exited before it served${said}`
      }

      if (state.idleStop !== undefined) {
        return `The master (pid ${state.plan.masterPid}) stopped on its own after "${withoutPrefix(state.idleStop)}": Puma's idle_timeout, a stop, not a crash; the server is down until something starts it`
      }

      const cause =
        state.errorLines.length > 0 ? ` after "${withoutPrefix(state.errorLines[0])}"` : ' during the restart'
      const stale = state.kind === 'hot' && state.status !== 'waiting' ? ', and its pidfile may be stale' : ''
      return `The master (pid ${state.plan.masterPid}) exited${cause}: the server is down${stale}`
    }

    case 'timed-out': {
      // The deadline the user chose, not when the late tick happened to arrive.
      if (state.plan.start) return startTimeoutSummary(state, seconds(state.plan.timeoutMs))
      if (state.stall) return stallSummary(state, state.stall)
      return timeoutSummary(state, outcome, seconds(state.plan.timeoutMs))
    }

    case 'worker-failed': {
      return failureSummary(state, outcome)
    }
  }
}

function doneSummary(state: RestartState, outcome: RestartOutcome): string {
  const took = seconds(outcome.durationMs)
  const counts = bootCounts(state)
  if (state.plan.start) {
    const how = state.mode === 'single' ? 'single mode' : `cluster mode, ${counts}`
    const puma = state.plan.version === undefined ? 'Puma' : `Puma ${state.plan.version}`
    return `${puma} started in ${took}: ${how}, master pid ${state.plan.masterPid}`
  }

  if (state.kind === 'phased')
    return `${state.refork ? 'Refork' : 'Phased restart'} finished in ${took}: phase ${state.phase}, ${counts}`
  const what = state.plan.kind === 'phased' ? 'Hot restart (instead of phased)' : 'Hot restart'
  const how = state.mode === 'single' ? 'single mode' : counts
  return `${what} finished in ${took}: ${how}, master pid ${state.plan.masterPid} kept`
}

function failureSummary(state: RestartState, outcome: RestartOutcome): string {
  const failure = outcome.failure!
  const where = failureWhere(state)
  const who = workerName(failure.index, failure.pid)
  const message = failure.cause === 'boot-error' ? bootErrorMessage(state.errorLines, failure.pid) : undefined
  const what = {
    'boot-error': `${who} failed to boot ${where}${message === undefined ? '' : `: ${message}`}`,
    'died-in-soak': soakDeathSummary(state, failure.index, failure.pid),
    'hung-boot': `${who} hung while booting ${where}; Puma killed it at its boot timeout`,
    'early-terminations': earlyTerminationsSummary(state, where),
    'repeated-starts': `New workers keep starting but never boot ${where}, with no reason logged: ${state.workerStarts.length} starts, ${bootedCount(state)} boots`,
  }[failure.cause]
  // A start has nothing that serves meanwhile: what follows the failure is what ctl did with its Puma.
  return state.plan.start ? what : `${what} (${outcome.serving!.sentence})`
}

/** "worker 1 (pid N) died 3.2 s into the 10 s soak of phase 4: <its first error line>". */
function soakDeathSummary(state: RestartState, index: number | undefined, pid: number | undefined): string {
  const who = `${index === undefined ? 'A worker' : `Worker ${index}`}${pid === undefined ? '' : ` (pid ${pid})`}`
  const into = state.soak && state.failure ? ((state.failure.since - state.soak.since) / 1000).toFixed(1) : '?'
  const of = state.kind === 'hot' ? 'after the hot restart' : `of phase ${state.phase}`
  const said = pid === undefined ? undefined : bootErrorMessage(state.errorLines, pid)
  return `${who} died ${into} s into the ${(state.plan.soakMs ?? 0) / 1000} s soak ${of}${said === undefined ? '' : `: ${said}`}`
}

function failureWhere(state: RestartState): string {
  if (state.plan.start) return 'while Puma started'
  return state.kind === 'hot' ? 'after the hot restart' : `in phase ${state.phase}`
}

/** Silent early terminations: "no reason logged" from the log; from /stats, what /stats showed of each worker. */
function earlyTerminationsSummary(state: RestartState, where: string): string {
  const ended = state.earlyTerminations
  if (!ended.every(({source}) => source === 'stats')) {
    return `New workers keep ending while booting ${where}, with no reason logged: ${ended.length} early terminations`
  }

  const byWorker = new Map<string, number[]>()
  for (const {index, pid} of ended) {
    const who = index === undefined ? 'a worker' : `worker ${index}`
    byWorker.set(who, [...(byWorker.get(who) ?? []), pid])
  }

  const workers = [...byWorker].map(
    ([who, pids]) =>
      `${who} (pid ${pids.join(', ')}) ended before it booted${pids.length > 1 ? `, ${pids.length} times` : ''}`,
  )
  return `New workers keep ending before they boot ${where}, as /stats shows (no log was read): ${workers.join('; ')}`
}

function timeoutSummary(state: RestartState, outcome: RestartOutcome, deadline: string): string {
  if (!outcome.started) return neverStartedSummary(state, deadline)
  if (state.kind === 'hot' && state.mode === 'single') {
    return `Timed out after ${deadline}: Puma restarted (single mode) but never printed "Use Ctrl-C to stop"; the app may still be loading, or hang`
  }

  const where = state.kind === 'hot' ? 'in the hot restart' : `in phase ${state.phase}`
  const parts = [`Timed out after ${deadline} ${where}: ${bootCounts(state)}`]
  const others = state.verifying?.unexpected
  if (others?.length) {
    parts[0] += `, but the kernel does not agree yet: pid ${others.join(', ')} (an old worker still running, or a new one not serving)`
  }

  const stillOld = outcome.pending.filter((p) => !p.stopped)
  const replacing = outcome.pending.filter((p) => p.stopped)
  if (stillOld.length > 0) parts.push(`still on ${oldPhaseLabel(state)}: ${pendingNames(stillOld)}`)
  if (replacing.length > 0) {
    parts.push(`${state.kind === 'hot' ? 'not booted' : 'stopped, replacement not booted'}: ${pendingNames(replacing)}`)
  }

  const ended = state.earlyTerminations.length
  if (ended > 0 && state.earlyTerminations.every(({source}) => source === 'stats')) {
    parts.push(`${ended} new ${plural(ended, 'worker')} ended before booting, as /stats showed (no log was read)`)
  } else if (ended > 0) {
    parts.push(
      `${ended} new ${ended === 1 ? 'worker' : 'workers'} ended while booting ("Early termination of worker"; Puma before 5.3.2 logs no reason)`,
    )
  }

  return parts.join('; ')
}

/** "Stalled: no progress for 30 s in phase 2: old worker pid 4242 stopped 30.2 s ago and still draining (…)". */
function stallSummary(state: RestartState, stall: Stall): string {
  const where =
    state.status === 'waiting' ? '' : state.kind === 'hot' ? ' in the hot restart' : ` in phase ${state.phase}`
  const pid = stall.pid === undefined ? 'a new worker' : `new worker pid ${stall.pid}`
  const step = {
    signal: `Puma has not started the restart ${stall.forSeconds} s after the signal`,
    draining: `old worker pid ${stall.pid} was stopped ${stall.forSeconds} s ago and is still draining (keep-alive connections or long requests; Puma's worker_shutdown_timeout bounds it)`,
    booting: `${pid} has been booting for ${stall.forSeconds} s (the app's load, or a hang in it)`,
  }[stall.step]
  return `Stalled: no progress for ${stall.seconds} s${where}: ${step}; ${bootCounts(state)}`
}

/** A start that did not serve in time: Puma is left running, still booting (or hanging). */
function startTimeoutSummary(state: RestartState, deadline: string): string {
  const pid = state.plan.masterPid
  if (state.mode === 'single' || state.workers === 0) {
    return `Timed out after ${deadline}: Puma (pid ${pid}) never printed "Use Ctrl-C to stop"; the app may still be loading, or hang; Puma is left running`
  }

  const others = state.verifying?.unexpected
  const disagree = others?.length
    ? `, but the kernel does not agree yet: pid ${others.join(', ')} (a worker not serving yet)`
    : ''
  return `Timed out after ${deadline} while Puma started: ${bootCounts(state)}${disagree}; Puma (pid ${pid}) is left running`
}

function neverStartedSummary(state: RestartState, deadline: string): string {
  if (state.fallbackSeen) {
    return `Puma said a phased restart is unavailable and did not restart within ${deadline} (Puma 2.2–2.3 ignores USR1 with preload_app: use a hot restart)`
  }

  if (state.plan.refork) return neverReforkedSummary(deadline)
  const [line, signal, also] =
    state.kind === 'phased'
      ? ['"Starting phased worker restart"', 'USR1', 'USR1 not trapped (JRuby)']
      : ['"* Restarting..."', 'USR2', 'PUMA_SKIP_SIGUSR2 set']
  return (
    `Puma never started the restart: no ${line} line within ${deadline}. The ${signal} may not have reached Puma's restart code ` +
    `(a stuck master, ${also}, or Puma logs somewhere else than the log being followed)`
  )
}

function neverReforkedSummary(deadline: string): string {
  return (
    `Puma never started the refork: no "Starting worker refork" (6.6.1+) or "Starting phased worker restart" line within ${deadline}. ` +
    'Puma ignores SIGURG without fork_worker in its config (and, before 6.6.1, with preload_app): add fork_worker and restart Puma (hot restart)'
  )
}

/**
 * A log line named a PID the kernel never showed as a worker the master forked since the signal:
 * not counted, whatever it says. Either text the app printed, or a worker Puma retried that lived
 * too briefly for the kernel to be asked (a crash loop): the line cannot tell which.
 */
export function untrueLineWarning(pid: number | undefined, masterPid: number): string {
  if (pid === undefined)
    return 'ignored more log lines naming PIDs that are no workers of the master (not told one by one)'
  return `ignored a log line naming pid ${pid}: the kernel never showed it as a worker master ${masterPid} forked since the signal (text the app printed, which can say anything, or a worker that lived too briefly to be seen)`
}

/** "2/3 workers booted" */
function bootCounts(state: RestartState): string {
  return `${bootedCount(state)}/${neededIndices(state).length} workers booted`
}

function workerName(index?: number, pid?: number): string {
  if (index !== undefined) return `Worker ${index}`
  return pid === undefined ? 'A new worker' : `A new worker (pid ${pid})`
}

function pendingNames(pending: PendingWorker[]): string {
  return pending
    .map((p) => {
      if (p.index === undefined) return `pid ${p.oldPid}`
      return p.oldPid === undefined ? `worker ${p.index}` : `worker ${p.index} (pid ${p.oldPid})`
    })
    .join(', ')
}

function oldPhaseLabel(state: RestartState): string {
  return state.plan.previousPhase === undefined ? 'the old phase' : `phase ${state.plan.previousPhase}`
}

function plural(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`
}

function verb(count: number, base: string): string {
  return count === 1 ? `${base}s` : base
}

/** "0.31 s", "3.20 s", "42.5 s"; whole seconds (a configured --timeout) as "60 s". */
function seconds(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000} s`
  return `${ms < 10_000 ? (ms / 1000).toFixed(2) : Number((ms / 1000).toFixed(1))} s`
}
