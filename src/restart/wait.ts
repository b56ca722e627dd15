import {type ControlEndpoint} from '../control/client.js'
import {LiveEndpoint} from '../control/live-endpoint.js'
import {statsEvents} from '../control/stats-events.js'
import {type PumaStats} from '../control/stats.js'
import {CtlError, EXIT, hasExitCode} from '../errors.js'
import {type LogEvent} from '../log/events.js'
import {parseLine} from '../log/parse.js'
import {masterOf} from '../target/reach.js'
import {Cadence} from '../wait/cadence.js'
import {Inbox, WAKE} from '../wait/inbox.js'
import {pollUntil} from '../wait/poll.js'
import {type RestartDeps} from './deps.js'
import {
  initialState,
  nextWakeAt,
  progress,
  reduce,
  type RestartInput,
  type RestartState,
  wantsFamily,
} from './machine.js'
import {type Preflight} from './preflight.js'
import {type Prepared} from './prepare.js'
import {type RestartRequest} from './run.js'
import {type BeforeSignal, KernelWitness} from './witness.js'

/**
 * How often the wait checks that the master still lives (one read of /proc/PID/stat): no event
 * tells when a process that is not our child exits. Log lines do not wait for it: they arrive
 * through file-change events, and the clock is consulted only when the machine needs it.
 */
const LIVENESS_POLL_MS = 250

/**
 * How often /stats is asked when it is the only source (no log to follow), or to confirm the end:
 * every 100 ms after a change, slowing to once a second while nothing changes (each call resets
 * Puma 7's backlog_max and reactor_max; Puma's own systemd plugin asks once a second).
 */
export const statsCadence = () => new Cadence(100, 1000)

/**
 * Feeds the machine until it reaches an outcome: log lines (or /stats changes when there is no
 * log) and the master's death as they come, and a tick when the machine asks for one (its
 * deadline, a failing worker's grace). Returns the state with its outcome; throws what a source
 * threw, or `interrupted` when the signal aborts first. Every source is stopped on return.
 */
export async function waitForOutcome(
  request: RestartRequest,
  prepared: Prepared,
  signalled: {at: number; before?: BeforeSignal; seen?: readonly number[]},
  deps: RestartDeps,
): Promise<RestartState> {
  const {checks, statsBefore, stopSources} = prepared
  const {before} = signalled
  const kernel = before && new KernelWitness(before, deps.kernel, signalled.seen)
  let state = initialState({
    kind: request.kind,
    kernel: before !== undefined,
    masterPid: masterOf(request.to)?.pid ?? 0,
    mode: checks.mode,
    workers: clusterSizeAtSignal(checks, before, statsBefore?.workers),
    oldWorkers: checks.workers,
    oldRelease: prepared.oldRelease,
    startedAt: signalled.at,
    timeoutMs: request.timeoutMs,
    soakMs: request.soakMs,
    stallMs: prepared.stallMs,
    previousPhase: statsBefore?.phase,
    version: masterOf(request.to)?.version,
    refork: request.refork,
    start: request.start,
  })
  const inbox = new Inbox<RestartInput>(deps.clock)
  let sourceError: unknown
  const fail = (error: unknown) => {
    sourceError ??= error
    inbox.close()
  }

  const onInterrupt = () => inbox.close()
  request.signal.addEventListener('abort', onInterrupt, {once: true})
  if (request.signal.aborted) inbox.close()
  let sources: Array<Promise<void>> = []
  try {
    // Inside the try: a source that throws at once must not leave journalctl running.
    sources = startSources(request, prepared, deps, {push: (input) => inbox.push(input), fail, kernel})
    for await (const input of inbox.wakingAt(() => nextWakeAt(state))) {
      state = reduce(state, input === WAKE ? wakeInput(request, state, kernel, deps) : withWitness(input, kernel))
      request.onUpdate?.(state)
      // The log has just shown the restart done: the kernel is asked now, not one timer later.
      if (state.verifying && state.verifying.askedAt === undefined) {
        state = reduce(state, wakeInput(request, state, kernel, deps))
        request.onUpdate?.(state)
      }

      if (state.outcome) break
    }
  } finally {
    inbox.close()
    request.signal.removeEventListener('abort', onInterrupt)
    stopSources.abort()
    await Promise.allSettled([...sources, prepared.journal?.stop()])
  }

  if (sourceFailed(sourceError, request.signal)) throw sourceError
  if (!state.outcome) throw interrupted(progress(state).label)
  return state
}

/**
 * Whether a source's error ended the wait: not when the interruption stopped that source too
 * (journalctl gets a terminal's Ctrl-C as well): where the wait stood says more then.
 */
function sourceFailed(error: unknown, interrupt: AbortSignal): boolean {
  if (!error) return false
  return !(interrupt.aborted && hasExitCode(error, EXIT.interrupted))
}

export function interrupted(where: string): CtlError {
  return new CtlError('interrupted', `interrupted while waiting: ${where}; nothing more was sent to Puma`)
}

/**
 * The machine asked for the time: a tick, or the master's family when it verifies a restart the
 * log shows done; unless the master is found dead then, which is what ended it (an app that failed
 * to load takes the master down, and its exception may arrive from stderr before the log's
 * "Unable to load application").
 */
function wakeInput(
  request: RestartRequest,
  state: RestartState,
  kernel: KernelWitness | undefined,
  deps: RestartDeps,
): RestartInput {
  const master = masterOf(request.to)
  const at = deps.clock.now()
  if (master && deps.hasExited(master.pid, master.startTicks)) return {type: 'master-exited', at}
  if (!master || !kernel || !wantsFamily(state)) return {type: 'tick', at}
  return {type: 'family', at, members: kernel.family(), master: kernel.of(master.pid)}
}

/**
 * The kernel's word on the PID a log line names, read when the line arrives: only for lines with a
 * prefix (the master's lines, or a worker's). App output costs nothing.
 */
function withWitness(input: RestartInput, kernel: KernelWitness | undefined): RestartInput {
  if (input.type !== 'log' || !kernel) return input
  const pid = namedPid(input.event)
  return pid === undefined ? input : {...input, witness: kernel.of(pid)}
}

/** The PID a line of Puma's speaks of (a worker's own line, or the master's about a worker). */
export function namedPid(event: LogEvent): number | undefined {
  if (event.prefixPid === undefined) return undefined
  switch (event.kind) {
    case 'worker-boot-error':
    case 'worker-early-termination':
    case 'worker-starting': {
      return event.prefixPid
    }

    case 'worker-booted':
    case 'worker-timed-out': {
      return event.workerPid
    }

    default: {
      return undefined
    }
  }
}

/**
 * How many workers the cluster has: never fewer than the kernel showed at the signal (a worker
 * killed a moment before is a zombie still named like its master), the distinct indexes of the
 * workers found, or /stats.
 */
function clusterSizeAtSignal(
  checks: Preflight,
  before: BeforeSignal | undefined,
  statsWorkers: number | undefined,
): number {
  const workers = before?.family.filter((member) => member.worker) ?? []
  const indexes = new Set([...checks.workers, ...workers].map((worker) => worker.index).filter((i) => i !== undefined))
  return Math.max(checks.workers.length, workers.length, indexes.size, statsWorkers ?? 0)
}

/** Where the sources' inputs go; `kernel` also looks at the master's children at each liveness poll. */
interface Sink {
  fail(error: unknown): void
  kernel?: KernelWitness
  push(input: RestartInput): void
}

/** Starts every source of inputs; each promise settles once its source has stopped (`stopSources` aborted). */
function startSources(request: RestartRequest, prepared: Prepared, deps: RestartDeps, sink: Sink): Promise<void>[] {
  const {logs, positions, journal, stopSources, statsBefore} = prepared
  const {signal} = stopSources
  const master = masterOf(request.to)
  const {control} = request.to
  const toInput = (event: LogEvent): RestartInput => ({type: 'log', event, at: deps.clock.now()})
  const feed = async (lines: AsyncIterable<string>) => {
    try {
      for await (const line of lines) sink.push(toInput(parseLine(line)))
    } catch (error) {
      sink.fail(error)
    }
  }

  const sources = logs.map((log, i) => feed(deps.followLog(log.path, {from: positions[i], signal})))
  if (journal) sources.push(feed(journal.lines))
  // Without a log, /stats is the source: its changes become the events the machine reads.
  if (!prepared.hasLog && control) {
    const emit = (event: LogEvent) => sink.push(toInput(event))
    sources.push(
      followStats(
        {
          control,
          first: statsBefore,
          masterPid: master?.pid,
          signal,
          reexecuted: () => sink.kernel?.masterServesAnew(),
        },
        deps,
        emit,
      ).catch(sink.fail),
    )
  }

  if (master) {
    // The same look notes the master's new children: a worker that fails to boot may be gone before
    // its lines are read, and only a worker the kernel showed counts (one read per thread of the master).
    const died = watchMaster(master, signal, deps, () => sink.kernel?.look())
    sources.push(
      died.then((dead) => {
        if (dead) sink.push({type: 'master-exited', at: deps.clock.now()})
      }),
    )
  }

  return sources
}

/**
 * Resolves with true once the master is seen dead on two polls in a row: the lines it wrote while
 * dying (an app that failed to load) reach the machine first through the log watcher. False once
 * `signal` aborts.
 */
async function watchMaster(
  {pid, startTicks: identity}: {pid: number; startTicks?: number},
  signal: AbortSignal,
  deps: RestartDeps,
  alsoEachLook: () => void,
): Promise<boolean> {
  let goneSeen = false
  const polled = await pollUntil(
    () => {
      alsoEachLook()
      const gone = deps.hasExited(pid, identity)
      if (gone && goneSeen) return true
      goneSeen = gone
      return undefined
    },
    {clock: deps.clock, intervalMs: LIVENESS_POLL_MS, signal, start: 'pause'},
  )
  return polled.status === 'done'
}

/**
 * Polls /stats and hands what changed to `emit`; refused connections (a hot restart's exec) are
 * skipped. The endpoint follows Puma's new token or socket (liveControl): a hot restart is seen
 * only through an endpoint that answers.
 */
async function followStats(
  source: {
    control: ControlEndpoint
    first?: PumaStats
    masterPid?: number
    /** The kernel shows the master re-executed and serving since the signal (single mode's hot restart). */
    reexecuted: () => boolean | undefined
    signal: AbortSignal
  },
  deps: RestartDeps,
  emit: (event: LogEvent) => void,
): Promise<void> {
  const {masterPid, signal} = source
  const control = liveControl(source.control, masterPid, deps)
  let previous = source.first
  let origin = source.first
  const cadence = statsCadence()
  const look = async () => {
    let current: PumaStats
    try {
      current = await control.stats({signal, timeoutMs: 5000})
    } catch (error) {
      if (signal.aborted) return 'stopped' // the wait ended while a request was under way
      if (hasExitCode(error, EXIT.noMaster)) return undefined // restarting: the control server is down a moment
      throw error
    }

    // Single mode's /stats tells a restart only by started_at, to the second: the kernel tells a re-exec.
    const reexecuted = current.mode === 'single' && origin !== undefined && source.reexecuted() === true
    const events = statsEvents(previous, current, masterPid, {origin, reexecuted})
    if (events.some((event) => event.kind === 'hot-restart')) origin = undefined
    if (events.length > 0) cadence.quicken()
    for (const event of events) emit(event)
    previous = current
    return undefined
  }

  await pollUntil(look, {clock: deps.clock, intervalMs: () => cadence.next(), signal, start: 'pause'})
}

/**
 * The control server as a restart talks to it: when it refuses the token or does not answer, read
 * again from its state file, as long as that still names this master (never a --control-url).
 */
export function liveControl(control: ControlEndpoint, masterPid: number | undefined, deps: RestartDeps): LiveEndpoint {
  return new LiveEndpoint(control, {
    fetchStats: (endpoint, options) => deps.fetchStats(endpoint, options),
    reread: async (stale) => (masterPid === undefined ? undefined : deps.rereadControl(stale, masterPid)),
  })
}
