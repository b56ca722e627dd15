import {type ChildProcess, spawn} from 'node:child_process'
import {closeSync, existsSync, openSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {projectRoot} from './paths.js'
import {bytesOf, freePort, isAlive, isWorkerOf, killQuietly, readOrEmpty, titleOf, workerPidsOf} from './processes.js'

/**
 * Drives test/fake-puma/fake-puma.rb: a fake Puma master of a chosen version family, for the
 * versions real Puma (5.6.5 here) cannot show. Every instance lives in its own temp folder, is
 * found only by its own PIDs and titles, and is killed by PID: other Pumas on this machine are not ours.
 */

export const fakePumaScript = join(projectRoot, 'test', 'fake-puma', 'fake-puma.rb')

export const FAKE_PUMA_VERSIONS = {
  '2.7': '2.7.1',
  '2.16': '2.16.0',
  '4.3': '4.3.12',
  '5.2': '5.2.2',
  '5.6': '5.6.5',
  '6.0': '6.0.0',
  '8.0': '8.0.2',
} as const
export type Dialect = keyof typeof FAKE_PUMA_VERSIONS
export type Behaviour = 'boot-fail' | 'boot-hang' | 'master-crash-on-restart' | 'ok'

export interface FakePumaOptions {
  behaviour?: Behaviour // the behaviour file's first content; default 'ok'
  /** Bind a free 127.0.0.1 port (default true). Without it the title says Puma's default tcp://0.0.0.0:9292. */
  bind?: boolean
  bootSeconds?: number // how long a worker (or a preload/single master) takes to load the app; default 0.05
  bootTimeout?: number // worker_boot_timeout; default 60
  checkInterval?: number // how often a draining old worker is reported again; default 1
  controlToken?: string
  controlUrl?: string // only written to the state file: nothing listens there
  dialect?: Dialect // default '5.6'
  drainSeconds?: number // how long a booted worker takes to exit after TERM; default 0
  preload?: boolean
  respawnDelay?: number // pause before respawning a crashed or timed-out worker; default 0.3
  single?: boolean
  /** Default: unique per instance (`fake-xxxxxx`). 2.7 shows no tag; 2.8-2.10 only on the master. */
  tag?: string
  timeoutMs?: number // default 20 s
  /** What to wait for: every worker's boot line (default), the banner and pidfile, or nothing. */
  wait?: 'banner' | 'booted' | 'none'
  workers?: number // default 2
}

export interface BootLine {
  index?: number // undefined before 2.8, where the line names only the PID
  phase: number
  pid: number
}

export interface FakePuma {
  behaviourFile: string
  dialect: Dialect
  dir: string
  /** Resolves when the master exits (a hot restart keeps the same process). */
  exited: Promise<{code: null | number; signal: NodeJS.Signals | null}>
  isAlive(): boolean
  log(): string
  /** --log: what stdout_redirect gets, i.e. everything after the first banner. */
  logPath: string
  /** The log's length in bytes now: pass it as `from` to wait only for what comes next. */
  logSize(): number
  pid: number
  pidfile: string
  port?: number
  setBehaviour(behaviour: Behaviour): void
  signal(signal: NodeJS.Signals): void
  statePath: string
  stderr(): string
  /** Stderr (never redirected): Ruby's dumps, e.g. 2.x worker boot failures. */
  stderrPath: string
  stdout(): string
  /** The original stdout: the first banner up to `Use Ctrl-C to stop`. */
  stdoutPath: string
  /** Kills the master and its workers by PID (TERM, then KILL) and removes the folder. Safe to call twice. */
  stop(): Promise<void>
  tag: string
  /** The master's title (/proc/PID/cmdline, NULs as spaces, trimmed); '' once it is gone. */
  title(): string
  version: string
  /** Resolves with the log text after `from` once `test` accepts it; rejects on timeout. */
  waitForLog(
    test: ((text: string) => boolean) | RegExp,
    options?: {from?: number; timeoutMs?: number; what?: string},
  ): Promise<string>
  /** Live workers of this master, by title in /proc, in index order (PID order on 2.7). */
  workerPids(): number[]
}

const BOOT_LINE = /- Worker (\d+) (?:\((?:pid|PID): (\d+)\) )?booted(?: in [\d.]+s)?, phase: (\d+)/g

/** The `- Worker … booted … phase: N` lines of a log, in every dialect's format. */
export function bootLines(text: string): BootLine[] {
  return [...text.matchAll(BOOT_LINE)].map((m) =>
    m[2] === undefined
      ? {pid: Number(m[1]), phase: Number(m[3])}
      : {index: Number(m[1]), pid: Number(m[2]), phase: Number(m[3])},
  )
}

// Last resort if a test run dies without its after hooks: SIGKILL what is left, by PID.
const live = new Set<{dir: string; pid: number}>()
process.once('exit', () => {
  for (const each of live) {
    const workers = workerPidsOf(each.pid)
    killQuietly(each.pid, 'SIGKILL')
    for (const pid of workers) killQuietly(pid, 'SIGKILL')
    rmSync(each.dir, {force: true, recursive: true})
  }
})

export async function startFakePuma(options: FakePumaOptions = {}): Promise<FakePuma> {
  const dialect = options.dialect ?? '5.6'
  const workers = options.single ? 0 : (options.workers ?? 2)
  const dir = await mkdtemp(join(tmpdir(), 'fake-puma-'))
  const tag = options.tag ?? `fake-${basename(dir).slice(-6)}`
  const port = options.bind === false ? undefined : await freePort()
  const at = (name: string) => join(dir, name)
  const [logPath, stdoutPath, stderrPath, pidfile, statePath, behaviourFile] = [
    'puma.log',
    'stdout.log',
    'stderr.log',
    'puma.pid',
    'puma.state',
    'behaviour',
  ].map((name) => at(name))
  const setBehaviour = (behaviour: Behaviour) => {
    // Atomic, so a worker booting right now reads the old or the new content, never half of it.
    writeFileSync(`${behaviourFile}.tmp`, `${behaviour}\n`)
    renameSync(`${behaviourFile}.tmp`, behaviourFile)
  }

  setBehaviour(options.behaviour ?? 'ok')
  const optional = (flag: string, value: number | string | undefined) =>
    value === undefined ? [] : [flag, String(value)]
  const args = [
    fakePumaScript,
    '--dialect',
    dialect,
    '--workers',
    String(workers),
    '--tag',
    tag,
    '--log',
    logPath,
    '--pidfile',
    pidfile,
    '--state',
    statePath,
    '--behaviour-file',
    behaviourFile,
    '--boot-seconds',
    String(options.bootSeconds ?? 0.05),
    ...optional('--bind', port === undefined ? undefined : `tcp://127.0.0.1:${port}`),
    ...optional('--boot-timeout', options.bootTimeout),
    ...optional('--respawn-delay', options.respawnDelay),
    ...optional('--drain-seconds', options.drainSeconds),
    ...optional('--check-interval', options.checkInterval),
    ...optional('--control-url', options.controlUrl),
    ...optional('--control-token', options.controlToken),
    ...(options.single ? ['--single'] : []),
    ...(options.preload ? ['--preload'] : []),
  ]
  const out = openSync(stdoutPath, 'a')
  const err = openSync(stderrPath, 'a')
  let child: ChildProcess
  try {
    // Its own process group: a stray signal to the test's group cannot reach it, nor the reverse.
    child = spawn('ruby', args, {cwd: dir, detached: true, stdio: ['ignore', out, err]})
  } finally {
    closeSync(out)
    closeSync(err)
  }

  child.unref() // a forgotten stop() must not keep mocha alive; the exit hook above still kills it
  const pid = child.pid!
  const entry = {dir, pid}
  live.add(entry)
  let exitedFlag = false
  const exited = new Promise<{code: null | number; signal: NodeJS.Signals | null}>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true
      resolve({code, signal})
    })
  })
  const seenWorkers = new Set<number>()
  const workerPids = () => {
    const pids = workerPidsOf(pid)
    for (const each of pids) seenWorkers.add(each)
    return pids
  }

  const log = () => readOrEmpty(logPath)
  const diagnostics = () =>
    `\n--- stdout\n${readOrEmpty(stdoutPath)}--- log\n${log()}--- stderr\n${readOrEmpty(stderrPath).slice(-2000)}`
  const waitForLog: FakePuma['waitForLog'] = async (
    test,
    {from = 0, timeoutMs = options.timeoutMs ?? 20_000, what = String(test)} = {},
  ) => {
    const accepts = typeof test === 'function' ? test : (text: string) => test.test(text)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const wasExited = exitedFlag // read before the log: a master's last lines are on disk once it has exited
      const text = bytesOf(logPath).subarray(from).toString('utf8')
      if (accepts(text)) return text
      if (wasExited) throw new Error(`fake Puma ${pid} exited while waiting for ${what}${diagnostics()}`)
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${diagnostics()}`)
      await sleep(20) // eslint-disable-line no-await-in-loop
    }
  }

  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      workerPids()
      if (!exitedFlag) {
        killQuietly(pid, 'SIGTERM')
        killQuietly(pid, 'SIGCONT') // in case a test left it suspended
        const timer = new AbortController() // cancelled once it exits, or the pending timer would hold mocha 5 s
        const timeout = sleep(5000, false, {signal: timer.signal}).catch(() => true)
        const stopped = await Promise.race([exited.then(() => true), timeout])
        timer.abort()
        if (!stopped) {
          killQuietly(pid, 'SIGKILL')
          await exited
        }
      }

      // Workers leave on their own once the master is gone; KILL any that linger, if the PID is still one of ours.
      const deadline = Date.now() + 3000
      for (const each of [...seenWorkers, ...workerPidsOf(pid)]) {
        while (isWorkerOf(pid, titleOf(each)) && Date.now() < deadline) await sleep(20) // eslint-disable-line no-await-in-loop
        if (isWorkerOf(pid, titleOf(each))) killQuietly(each, 'SIGKILL')
      }

      rmSync(dir, {force: true, recursive: true})
      live.delete(entry)
    })()
    return stopping
  }

  const fake: FakePuma = {
    behaviourFile,
    dialect,
    dir,
    exited,
    isAlive: () => !exitedFlag && isAlive(pid),
    log,
    logPath,
    logSize: () => bytesOf(logPath).length,
    pid,
    pidfile,
    port,
    setBehaviour,
    signal: (signal) => process.kill(pid, signal),
    statePath,
    stderr: () => readOrEmpty(stderrPath),
    stderrPath,
    stdout: () => readOrEmpty(stdoutPath),
    stdoutPath,
    stop,
    tag,
    title: () => titleOf(pid),
    version: FAKE_PUMA_VERSIONS[dialect],
    waitForLog,
    workerPids,
  }

  // The pidfile and then the state file follow the banner (cluster mode: before any worker is forked).
  const bannered = () =>
    readOrEmpty(stdoutPath).includes('Use Ctrl-C to stop') &&
    existsSync(pidfile) &&
    readOrEmpty(statePath).endsWith('\n')
  const booted = (text: string) =>
    new Set(
      bootLines(text)
        .filter((b) => b.phase === 0)
        .map((b) => b.pid),
    ).size >= workers
  try {
    if (options.wait === 'banner' || (options.wait !== 'none' && workers === 0))
      await waitForLog(() => bannered(), {what: 'the banner, pidfile and state file'})
    else if (options.wait !== 'none')
      await waitForLog((text) => bannered() && booted(text), {what: `${workers} boot lines`})
    workerPids()
  } catch (error) {
    await stop()
    throw error
  }

  return fake
}
