import {strict as assert} from 'node:assert'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type DeliverableCommand, type Via} from '../../src/actions/deliver.js'
import {type ControlEndpoint} from '../../src/control/client.js'
import {type PumaStats} from '../../src/control/stats.js'
import {CtlError, noMasterError} from '../../src/errors.js'
import {type LogPosition} from '../../src/log/follow.js'
import {type BootCheckOptions, type BootCheckResult} from '../../src/restart/boot-check.js'
import {realRestartDeps, type RestartDeps} from '../../src/restart/deps.js'
import {type RestartState} from '../../src/restart/machine.js'
import {type RestartReport, type RestartRequest, type RestartStart, runRestart} from '../../src/restart/run.js'
import {type PumaTimeouts} from '../../src/restart/stall-default.js'
import {type PumaMaster} from '../../src/target/scan.js'
import {Inbox} from '../../src/wait/inbox.js'
import {FakeClock, settle} from './fake-clock.js'
import {type FakeKernel, NO_KERNEL} from './fake-kernel.js'

export const MASTER = 1234
/** The old workers' PIDs are 2000, 2001, …; the new ones' 3000, 3001, … */
export const OLD_PID = 2000
export const NEW_PID = 3000

export const CONTROL: ControlEndpoint = {url: 'tcp://127.0.0.1:9293', token: 'test', origin: '--control-url'}

export interface WorldOptions {
  /** The boot check's result (default: the release boots in 1.2 s). */
  bootCheck?: (pid: number, options: BootCheckOptions) => BootCheckResult
  /** The process table the kernel shows; none: claims go unchecked, as without /proc. */
  kernel?: (master: PumaMaster) => FakeKernel
  /** Lines already in the log before the restart, e.g. a banner (preflight reads them). */
  logText?: string
  /** Puma's timeouts in the master's config (--stall-timeout's default); undefined: not known, no default. */
  pumaTimeouts?: PumaTimeouts
  /** /stats's answer each time it is asked (at `control`; it may throw); undefined: nothing listens on the control URL. */
  stats?: (control: ControlEndpoint) => PumaStats
  /** false: the master's stdout is a pipe, no log file to follow. */
  withLog?: boolean
  workers?: number
}

export type Settled<T> = {error: unknown; status: 'rejected'} | {status: 'fulfilled'; value: T} | {status: 'pending'}

/**
 * A whole restart with every dependency faked: a clock the test advances, a log the test writes
 * lines to (the orchestration reads them through its follower), a process table where the master
 * lives until the test says otherwise, a deliver that only records, and a scripted /stats.
 */
export class RestartWorld {
  /** The boot checks run, in order: the master's PID and the options. */
  readonly bootChecks: Array<{options: BootCheckOptions; pid: number}> = []
  readonly clock = new FakeClock()
  readonly controller = new AbortController()
  readonly delivered: Array<{command: DeliverableCommand; via: Via}> = []
  readonly deps: RestartDeps
  readonly dir = mkdtempSync(join(tmpdir(), 'ctl-restart-world-'))
  readonly followed: Array<{from: LogPosition; path: string}> = []
  /** The signals the followers were given: aborted once the wait is over. */
  readonly followSignals: AbortSignal[] = []
  readonly health: string[] = []
  readonly kernel?: FakeKernel
  readonly logPath = join(this.dir, 'puma.log')
  readonly master: PumaMaster
  masterDead = false
  /** The state-file re-reads the restart started (real reads of a real file): see `rereadsDone`. */
  readonly rereads: Array<Promise<ControlEndpoint | undefined>> = []
  readonly states: RestartState[] = []
  readonly statsAsked: number[] = []
  private readonly log = new Inbox<string>()
  private readonly onStart: Promise<RestartStart>
  private started!: (start: RestartStart) => void
  private readonly waiters: Array<{predicate: (state: RestartState) => boolean; resolve: () => void}> = []

  constructor(private readonly options: WorldOptions = {}) {
    const workers = options.workers ?? 3
    this.master = {
      pid: MASTER,
      cmd: 'puma 5.6.5 (tcp://127.0.0.1:9292) [app]',
      binds: ['tcp://127.0.0.1:9292'],
      version: '5.6.5',
      startTicks: 4242,
      workers: Array.from({length: workers}, (_, index) => ({index, pid: OLD_PID + index})),
    }
    this.kernel = options.kernel?.(this.master)
    // A worker forked during the test started at the world's time, after the master and its first workers.
    if (this.kernel) this.kernel.now = () => this.clock.now()
    writeFileSync(this.logPath, options.logText ?? '')
    // The workers' folder holds an app, as a release does (a failure names it as the old release).
    writeFileSync(join(this.dir, 'config.ru'), "run ->(env) { [200, {}, ['ok']] }\n")
    this.onStart = new Promise((resolve) => {
      this.started = resolve
    })
    this.deps = this.fakeDeps()
  }

  /** Resolves once the command was sent and the wait began. */
  get sent(): Promise<RestartStart> {
    return this.onStart
  }

  /** Moves the clock on, firing the timers due (liveness polls, /stats polls, the machine's wake-ups). */
  async advance(ms: number): Promise<void> {
    await this.clock.advance(ms)
  }

  /** After the run: no timer, no poll, no follower left behind. */
  assertCleanedUp(): void {
    assert.equal(this.clock.pending, 0, 'timers left behind')
    assert.ok(
      this.followSignals.length > 0 && this.followSignals.every((signal) => signal.aborted),
      'followers stopped',
    )
  }

  cleanUp(): void {
    rmSync(this.dir, {recursive: true, force: true})
  }

  /** Lets every state-file re-read started so far finish (real file I/O), and what it woke run. */
  async rereadsDone(): Promise<void> {
    await Promise.allSettled(this.rereads)
    await settle()
  }

  /** Starts a restart; its result is watched, not awaited (see `settled`). */
  run({control, ...overrides}: Partial<RestartRequest> & {control?: ControlEndpoint} = {}): RestartRun {
    const request: RestartRequest = {
      kind: 'phased',
      to: {kind: 'master', target: {master: this.master, origin: 'test'}, control},
      via: 'signal',
      timeoutMs: 60_000,
      wait: true,
      signal: this.controller.signal,
      onStart: (start) => this.started(start),
      onUpdate: (state) => this.update(state),
      ...overrides,
    }
    return new RestartRun(runRestart(request, this.deps))
  }

  /** Resolves once the machine reaches a state that satisfies `predicate` (for a real follower's lines, which come in their own time). */
  async until(predicate: (state: RestartState) => boolean): Promise<void> {
    if (this.states.some((state) => predicate(state))) return
    await new Promise<void>((resolve) => {
      this.waiters.push({predicate, resolve})
    })
  }

  /** Puma writes `lines` to its log; the orchestration reads them (and reacts) before this resolves. */
  async write(...lines: string[]): Promise<void> {
    for (const line of lines) this.log.push(line)
    await settle()
  }

  private fakeDeps(): RestartDeps {
    const answers = this.options.stats
    return {
      assertMaySignal() {}, // the fake master is always ours to signal
      checkBoot: async (pid, options) => {
        this.bootChecks.push({pid, options})
        const passed: BootCheckResult = {
          durationMs: 1200,
          folder: this.dir,
          how: 'puma',
          lines: [],
          linesOmitted: 0,
          ok: true,
          warnings: [],
        }
        return this.options.bootCheck?.(pid, options) ?? passed
      },
      clock: this.clock,
      deliver: async (command, _to, {via}) => {
        this.delivered.push({command, via})
        const signals: Record<DeliverableCommand, string> = {
          restart: 'SIGUSR2',
          'phased-restart': 'SIGUSR1',
          refork: 'SIGURG',
          stop: 'SIGTERM',
          halt: 'SIGQUIT',
        }
        return {via, sent: signals[command], warnings: []}
      },
      fetchStats: async (control) => {
        this.statsAsked.push(this.clock.now())
        if (!answers) throw noMasterError('nothing listens on the control URL (connection refused)')
        return answers(control)
      },
      followLog: (path, {from, signal}) => {
        this.followed.push({path, from})
        this.followSignals.push(signal)
        signal.addEventListener('abort', () => this.log.close(), {once: true})
        return this.log
      },
      hasExited: (pid) => pid === MASTER && this.masterDead,
      kernel: this.kernel ?? NO_KERNEL,
      journalUnitOf: async () => undefined,
      logEnd: async () => ({dev: 1, ino: 1, offset: 0}),
      probeHealth: async (url) => {
        this.health.push(url)
        return {url, status: 200, attempts: 1, durationMs: 0}
      },
      pumaTimeouts: async () => this.options.pumaTimeouts,
      readEnvironment: () => ({PWD: this.dir}),
      rereadControl: (stale, masterPid) => {
        const read = realRestartDeps.rereadControl(stale, masterPid)
        this.rereads.push(read)
        return read
      },
      readProcessDetails: (pid) => ({
        pid,
        cwd: this.dir,
        stdout: this.options.withLog === false ? 'pipe:[4242]' : this.logPath,
        stderr: this.options.withLog === false ? 'pipe:[4242]' : this.logPath,
        startedAt: this.kernel?.startedAt(pid) ?? new Date(0),
        cpuSeconds: 0,
        rssBytes: 0,
      }),
      startJournal() {
        throw new Error('no journal in this world')
      },
    }
  }

  private update(state: RestartState): void {
    this.states.push(state)
    for (const waiter of this.waiters.filter(({predicate}) => predicate(state))) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  }
}

/** A running restart, watched: its result once settled. */
export class RestartRun {
  private outcome: Settled<RestartReport> = {status: 'pending'}

  constructor(readonly promise: Promise<RestartReport>) {
    promise.then(
      (value) => {
        this.outcome = {status: 'fulfilled', value}
      },
      (error: unknown) => {
        this.outcome = {status: 'rejected', error}
      },
    )
  }

  get settled(): Settled<RestartReport> {
    return this.outcome
  }

  /** The error it has failed with, which must carry `exitCode`. */
  error(exitCode: number): CtlError {
    const {settled} = this
    assert.equal(settled.status, 'rejected', `expected a rejection, got ${settled.status}`)
    const {error} = settled as {error: unknown}
    assert.ok(error instanceof CtlError, String(error))
    assert.equal(error.exitCode, exitCode, error.message)
    return error
  }

  /** Resolves once the restart has settled, either way. */
  async finished(): Promise<void> {
    await this.promise.catch(() => {})
  }

  /** The report it has finished with. */
  report(): RestartReport & {waited: true} {
    const {settled} = this
    if (settled.status === 'rejected') throw settled.error
    assert.ok(settled.status === 'fulfilled', 'the restart has not finished')
    assert.ok(settled.value.waited)
    return settled.value
  }
}

/** The real log follower and log end, for the tests where the file itself matters (rotation). */
export const realLog: Pick<RestartDeps, 'followLog' | 'logEnd'> = {
  followLog: realRestartDeps.followLog,
  logEnd: realRestartDeps.logEnd,
}

/** Puma's lines with the master's prefix. */
export const fromMaster = (...lines: string[]) => lines.map((line) => `[${MASTER}] ${line}`)

/**
 * The lines Puma 5.6 writes for worker `index` in a phased restart to `phase`: the old one stopped,
 * the new one booted (6.6.1+ says "for refork" in a refork).
 */
export function replaced(index: number, phase = 1, why: 'phased upgrade' | 'refork' = 'phased upgrade'): string[] {
  return fromMaster(
    `- Stopping ${OLD_PID + index} for ${why}...`,
    `- TERM sent to ${OLD_PID + index}...`,
    `- Worker ${index} (PID: ${NEW_PID + index}) booted in 0.5s, phase: ${phase}`,
  )
}
