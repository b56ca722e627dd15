// Types only: erased at compile time, so execa (~60 ms to load) is still loaded only when a journal is followed.
import type {ResultPromise} from 'execa'

import {readdirSync, readlinkSync} from 'node:fs'
import {readFile, readlink} from 'node:fs/promises'
import {setTimeout as delay} from 'node:timers/promises'

import {CtlError, usageError} from '../errors.js'
import {pollUntil} from '../wait/poll.js'
import {DEFAULT_MAX_LINE_BYTES} from './follow.js'

/** A systemd unit whose output goes to the journal. */
export interface JournalUnit {
  /** The unit's name, e.g. `puma.service` or `puma@app.service`. */
  name: string
  /** Set for a user unit: the UID whose service manager (`user@UID.service`) runs it. */
  uid?: number
}

export interface JournalOptions {
  /** The journalctl to run (default: `journalctl` from the PATH). */
  journalctl?: string
  /** How long `ready` waits for journalctl to start following before it trusts `since` alone. */
  readyTimeoutMs?: number
  /** Stops following: journalctl is killed and `lines` ends. */
  signal: AbortSignal
  /** Entries from this moment on are read (default: when startJournal is called). */
  since?: Date
}

export interface JournalFollower {
  /** The unit's lines from `since` on, without their newline. Iterate once. */
  lines: AsyncGenerator<string, void, undefined>
  /**
   * Resolves once journalctl has opened the journal and follows it; rejects with the CtlError that
   * `lines` would throw when journalctl cannot (not installed, no permission, exited), or with an
   * `interrupted` CtlError when stopped first. Await it before signalling Puma.
   */
  ready: Promise<void>
  /** What journalctl has said on stderr so far (bounded), e.g. its "not seeing messages from other users" hint. */
  stderr(): string
  /** Kills journalctl and waits until it has been reaped. Idempotent; `lines` then ends. */
  stop(): Promise<void>
}

export const DEFAULT_JOURNAL_READY_TIMEOUT_MS = 1000
const READY_POLL_MS = 10
const STDERR_KEEP_CHARS = 8 * 1024
/** journalctl ignores SIGTERM only when something is badly wrong; then SIGKILL. */
const FORCE_KILL_AFTER_MS = 2000

/**
 * journalctl's arguments for following `unit` from `since` on.
 *
 * `--since` rather than `-n 0`: `-n 0` starts at whatever the journal's end is once journalctl has
 * opened the journal files, which takes from milliseconds to seconds, and a line Puma writes before
 * then is lost. A timestamp taken before ctl signals is the journal's version of logEnd(): every entry
 * the signal causes is stamped later (journald stamps an entry when it receives it, from the same
 * clock), however late journalctl starts. Only a wall clock stepped backwards in between defeats it.
 * A user unit is matched by field rather than by `--user-unit`, which would match the caller's UID only.
 */
export function journalctlArguments(unit: JournalUnit | string, since: Date): string[] {
  const match =
    typeof unit === 'string'
      ? ['-u', unit]
      : unit.uid === undefined
        ? ['-u', unit.name]
        : [`_SYSTEMD_USER_UNIT=${unit.name}`, `_UID=${unit.uid}`]
  return ['-f', '-o', 'cat', '--no-pager', '--since', `@${(since.getTime() / 1000).toFixed(3)}`, ...match]
}

/** For messages: `puma.service`, or `user unit puma.service (UID 1000)`. */
export function describeJournalUnit(unit: JournalUnit | string): string {
  if (typeof unit === 'string') return unit
  return unit.uid === undefined ? unit.name : `user unit ${unit.name} (UID ${unit.uid})`
}

interface Exit {
  code: null | number
  /** Set when journalctl could not be started at all. */
  error?: NodeJS.ErrnoException
  signal: NodeJS.Signals | null
}

interface Running {
  child: ResultPromise<{buffer: false; reject: false; stdin: 'ignore'}>
  /** journalctl's exit (it has been reaped by then), and the end of its stderr. */
  exited: Promise<Exit>
}

/**
 * Starts `journalctl -f` for `unit`: see JournalFollower. journalctl is killed when `signal` aborts,
 * when `stop()` is called and when the consumer stops iterating `lines` or `lines` ends; otherwise at
 * the latest when ctl exits (execa's `cleanup`). It never outlives its follower unreaped.
 *
 * Readiness: journalctl prints nothing when it starts following, but it creates its inotify
 * descriptor (sd_journal_get_fd) only after it has opened the journal files, passed its permission
 * check and added the unit's match, the steps that fail. So `ready` waits until
 * /proc/PID/fd shows `anon_inode:inotify`, or journalctl exits (an error). When that cannot be seen
 * within `readyTimeoutMs` (a slow journal, a different journalctl), `ready` resolves anyway: thanks to
 * `--since`, no line is lost by signalling early; only a failure would then show after the signal.
 */
export function startJournal(unit: JournalUnit | string, options: JournalOptions): JournalFollower {
  const {
    signal,
    journalctl = 'journalctl',
    since = new Date(),
    readyTimeoutMs = DEFAULT_JOURNAL_READY_TIMEOUT_MS,
  } = options
  const label = describeJournalUnit(unit)
  let said = ''
  let stopRequested = false // no spawning, no more lines
  let cancelled = false // ...because someone asked, rather than because journalctl failed
  let releasing: Promise<void> | undefined

  const started = (async (): Promise<Running | undefined> => {
    const {execa} = await import('execa')
    if (stopRequested) return undefined
    const child = execa(journalctl, journalctlArguments(unit, since), {
      stdin: 'ignore',
      buffer: false,
      reject: false,
      forceKillAfterDelay: FORCE_KILL_AFTER_MS,
    })
    // With buffer: false, execa resumes an unread stdout on the next tick and drops what journalctl
    // prints before `lines` is iterated. Paused, lines wait in the pipe (and journalctl waits for us).
    child.stdout.pause()
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (text: string) => {
      if (said.length < STDERR_KEEP_CHARS) said += text.slice(0, STDERR_KEEP_CHARS - said.length)
    })
    const stderrClosed = new Promise<void>((resolve) => {
      child.stderr.once('close', resolve)
    })
    const exited = new Promise<Exit>((resolve) => {
      child.once('error', (error) => resolve({code: null, signal: null, error}))
      child.once('exit', (code, exitSignal) => resolve({code, signal: exitSignal}))
    }).then(async (exit) => {
      // Its last words may still be in the pipe; a stderr held open by someone else is not waited for.
      await Promise.race([stderrClosed, delay(200, undefined, {ref: false})])
      return exit
    })
    return {child, exited}
  })()

  /** Kills journalctl (when it still runs) and waits until it has been reaped. */
  function release(): Promise<void> {
    stopRequested = true
    releasing ??= (async () => {
      signal.removeEventListener('abort', onAbort)
      const running = await started.catch(() => undefined)
      if (!running) return
      running.child.kill()
      await running.exited // the 'exit' event: journalctl has been reaped, no zombie is left
      running.child.stdout.destroy() // lines nobody will read; lets execa's promise settle
      running.child.stderr.destroy()
      await running.child // reject: false, so this never throws
    })()
    return releasing
  }

  /** Stopping on request (stop(), the signal, the consumer): `lines` then ends quietly. */
  function stop(): Promise<void> {
    cancelled = true
    return release()
  }

  const onAbort = () => {
    stop()
  }

  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, {once: true})

  const failure = (exit: Exit) =>
    exitError(exit, {label, journalctl, stderr: said, unitName: typeof unit === 'string' ? unit : unit.name})

  const ready = (async () => {
    const running = await started
    const state = running ? await untilFollowing(running, readyTimeoutMs, () => stopRequested) : 'stopped'
    if (state === 'stopped')
      throw new CtlError('interrupted', `interrupted while starting to follow the journal of ${label}`)
    if (state === 'exited') {
      const exit = await running!.exited
      await release()
      throw failure(exit)
    }
  })()
  ready.catch(() => {}) // a caller may go straight to `lines`, which throws the same error

  async function* read(): AsyncGenerator<string, void, undefined> {
    try {
      try {
        await ready
      } catch (error) {
        if (cancelled) return
        throw error
      }

      const running = (await started)!
      yield* splitLines(running.child.stdout as AsyncIterable<string>, () => stopRequested)
      if (stopRequested) return
      // stdout ended without our asking: journalctl is exiting on its own. (Ctrl-C reaches it too;
      // waiting for its exit gives ctl's own abort the moment it needs to arrive first.)
      const exit = await running.exited
      if (cancelled || signal.aborted) return
      throw failure(exit)
    } finally {
      await stop()
    }
  }

  return {ready, lines: read(), stop, stderr: () => said}
}

/** The lines of `unit` from now on, until `signal` aborts or the consumer stops; see startJournal. */
export function followJournal(
  unit: JournalUnit | string,
  options: JournalOptions,
): AsyncGenerator<string, void, undefined> {
  return startJournal(unit, options).lines
}

async function untilFollowing(
  running: Running,
  timeoutMs: number,
  stopped: () => boolean,
): Promise<'exited' | 'following' | 'stopped'> {
  let exited = false
  running.exited.then(() => {
    exited = true
  })
  const {pid} = running.child
  const deadline = Date.now() + timeoutMs
  const look = async (): Promise<'exited' | 'following' | 'stopped' | undefined> => {
    if (stopped()) return 'stopped'
    if (exited) return 'exited'
    if (pid === undefined) {
      await running.exited // it could not be started: the 'error' event is on its way
      return stopped() ? 'stopped' : 'exited'
    }

    const watching = hasInotify(pid)
    // Watching, or cannot tell (`--since` covers it then).
    return watching !== false || Date.now() >= deadline ? 'following' : undefined
  }

  // The deadline is the look's: it ends in 'following', not in a failure.
  const polled = await pollUntil(look, {intervalMs: READY_POLL_MS})
  return polled.status === 'done' ? polled.value : 'stopped'
}

/**
 * The lines of journalctl's output, bounded like followLog's; ends quietly once `stopped()`.
 * @yields each line, without its newline
 */
async function* splitLines(
  stdout: AsyncIterable<string>,
  stopped: () => boolean,
): AsyncGenerator<string, void, undefined> {
  let held = '' // the start of a line whose newline has not arrived yet
  try {
    for await (const chunk of stdout) {
      let start = 0
      for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
        const line = (held + chunk.slice(start, nl)).slice(0, DEFAULT_MAX_LINE_BYTES)
        held = ''
        start = nl + 1
        if (stopped()) return
        yield line.endsWith('\r') ? line.slice(0, -1) : line
      }

      held = (held + chunk.slice(start)).slice(0, DEFAULT_MAX_LINE_BYTES)
    }
  } catch (error) {
    if (stopped()) return // stop() destroyed stdout under us
    throw error
  }
}

/** Whether `pid` holds an inotify descriptor; undefined when /proc does not say. */
function hasInotify(pid: number): boolean | undefined {
  let fds: string[]
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? false : undefined // gone: its exit is on its way
  }

  return fds.some((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:inotify'
    } catch {
      return false // closed meanwhile
    }
  })
}

const INTERRUPTING_SIGNALS = new Set(['SIGHUP', 'SIGINT', 'SIGTERM'])

function exitError(
  exit: Exit,
  {journalctl, label, stderr, unitName}: {journalctl: string; label: string; stderr: string; unitName: string},
): CtlError {
  const instead = '--log PATH (the file Puma logs to)'
  if (exit.error) {
    const message =
      exit.error.code === 'ENOENT'
        ? `${journalctl} was not found`
        : `${journalctl} could not be started: ${exit.error.message}`
    return usageError(`cannot follow the journal of ${label}: ${message}`, {
      suggestion: `install systemd's journalctl, or pass ${instead}`,
    })
  }

  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  // Its error, not the hint that precedes it ("Hint: You are currently not seeing messages…").
  const reason = [...lines].reverse().find((line) => !line.startsWith('Hint:')) ?? lines.at(-1)
  const how = exit.signal ? `was stopped by ${exit.signal}` : `exited with code ${exit.code}`
  const message = `journalctl ${how} instead of following the journal of ${label}${reason ? `: ${reason}` : ''}`
  const options = {
    details: lines.filter((line) => line !== reason),
    // journalctl's own exit, apart: --json's exitCode and signal are ctl's.
    data: {unit: label, journalctl: {exitCode: exit.code, signal: exit.signal}, stderr: lines},
  }
  if (exit.signal && INTERRUPTING_SIGNALS.has(exit.signal)) return new CtlError('interrupted', message, options)
  if (/permission|not permitted|access denied/i.test(stderr)) {
    return new CtlError('notPermitted', message, {
      ...options,
      suggestion: `run as root or as a member of the systemd-journal group (adm on some systems), or pass ${instead}`,
    })
  }

  // Killed by someone else (the OOM killer, an admin): the journal cannot be followed, as when it exits.
  if (exit.signal) return usageError(message, {...options, suggestion: `pass ${instead}`})
  return usageError(message, {
    ...options,
    suggestion: `check the unit (systemctl status ${unitName}), or pass ${instead}`,
  })
}

/**
 * The systemd unit a process belongs to, from the text of /proc/PID/cgroup: the last `.service` in
 * its path (a service's own sub-cgroups come after it), read from the unified hierarchy (`0::`,
 * cgroup v2 and hybrid) or else systemd's named v1 hierarchy (`name=systemd`). Below a
 * `user@UID.service`, the unit is a user unit of that UID. Undefined for scopes (a login session,
 * `systemd-run --scope`), the root, or no systemd at all.
 */
export function parseCgroupUnit(text: string): JournalUnit | undefined {
  const paths = new Map<string, string>()
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim())
    if (match) paths.set(match[1] === '0' && match[2] === '' ? 'unified' : match[2], match[3])
  }

  for (const path of [paths.get('unified'), paths.get('name=systemd')]) {
    // systemd escapes a cgroup name that could clash with the kernel's own files by prefixing `_`.
    const parts = path?.split('/').map((part) => (part.startsWith('_') ? part.slice(1) : part)) ?? []
    let at = parts.length - 1
    while (at >= 0 && !parts[at].endsWith('.service')) at--
    if (at === -1) continue
    const manager = parts.slice(0, at).find((part) => /^user@\d+\.service$/.test(part))
    return manager ? {name: parts[at], uid: Number(/\d+/.exec(manager)![0])} : {name: parts[at]}
  }

  return undefined
}

/**
 * The unit whose journal gets the master's output, for auto-detection: its stdout (/proc/PID/fd/1,
 * the link readProcessDetails reports) is a socket, as journald's stdout streams are, and the process
 * runs in a systemd service. Undefined otherwise, and when /proc cannot be read (another user's
 * process): ctl then has no log to follow from here either.
 */
export async function journalUnitOf(pid: number, proc = '/proc'): Promise<JournalUnit | undefined> {
  try {
    if (!(await readlink(`${proc}/${pid}/fd/1`)).startsWith('socket:[')) return undefined
    return parseCgroupUnit(await readFile(`${proc}/${pid}/cgroup`, 'utf8'))
  } catch {
    return undefined
  }
}
