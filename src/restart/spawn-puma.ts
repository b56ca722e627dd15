import {type ChildProcess, spawn} from 'node:child_process'
import {closeSync, mkdirSync, openSync} from 'node:fs'
import {constants} from 'node:os'
import {dirname} from 'node:path'

import {usageError} from '../errors.js'
import {type PumaCommand} from './puma-command.js'

/** Where Puma runs: its folder (also its PWD, as a shell sets it: `current` stays `current`). */
export interface PumaPlace {
  cwd: string
  env?: NodeJS.ProcessEnv
}

/**
 * Starts Puma detached, as `nohup puma >> LOG 2>&1 &` from a shell would, and resolves with its
 * PID once it runs: its own session (a closed terminal or ctl's exit does not reach it), stdin
 * closed, stdout and stderr appended to `logPath` (its folder made if missing). ctl holds no copy
 * of the file, and does not wait for the child.
 */
export async function spawnDetached(command: PumaCommand, place: PumaPlace & {logPath: string}): Promise<number> {
  mkdirSync(dirname(place.logPath), {recursive: true})
  const log = openSync(place.logPath, 'a')
  let child: ChildProcess
  try {
    child = spawn(command.argv[0], command.argv.slice(1), {
      cwd: place.cwd,
      env: environment(place),
      detached: true,
      stdio: ['ignore', log, log],
    })
  } finally {
    closeSync(log) // Puma holds its own copy
  }

  const pid = await spawned(child, command)
  child.unref()
  return pid
}

/** The signals `--foreground` passes on to Puma: every one Puma gives a meaning. */
export const FORWARDED_SIGNALS = [
  'SIGTERM',
  'SIGINT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGHUP',
  'SIGURG',
  'SIGTTIN',
  'SIGTTOU',
] as const satisfies readonly NodeJS.Signals[]

export interface ForegroundDeps {
  /** Ends ctl with Puma's status (process.exit). */
  exit(code: number): never
  /** Where ctl's own signals arrive (process). */
  signals: Pick<NodeJS.Process, 'off' | 'on'>
  spawn: typeof spawn
}

const realForegroundDeps: ForegroundDeps = {
  // eslint-disable-next-line n/no-process-exit, unicorn/no-process-exit -- Puma's exit status is ctl's
  exit: (code) => process.exit(code),
  signals: process,
  spawn,
}

/**
 * `exec puma` as far as Node can: Node has no exec, so Puma runs as ctl's child with ctl's stdin,
 * stdout and stderr, in its own process group (a terminal's Ctrl-C reaches it once, through ctl),
 * gets every signal ctl gets that Puma gives a meaning, and ctl ends with Puma's exit status (a
 * signal N as 128 + N, as a shell reports it). `onStarted` hears Puma's PID.
 */
export async function runInForeground(
  command: PumaCommand,
  place: PumaPlace & {onStarted?: (pid: number) => void},
  deps: ForegroundDeps = realForegroundDeps,
): Promise<never> {
  const child = deps.spawn(command.argv[0], command.argv.slice(1), {
    cwd: place.cwd,
    env: environment(place),
    detached: true,
    stdio: 'inherit',
  })
  const handlers = FORWARDED_SIGNALS.map((name) => {
    const handler = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(name)
    }

    deps.signals.on(name, handler)
    return [name, handler] as const
  })
  try {
    const exited = new Promise<{code: null | number; signal: NodeJS.Signals | null}>((resolve) => {
      child.once('exit', (code, signal) => resolve({code, signal}))
    })
    place.onStarted?.(await spawned(child, command))
    const {code, signal} = await exited
    return deps.exit(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1))
  } finally {
    for (const [name, handler] of handlers) deps.signals.off(name, handler)
  }
}

function environment(place: PumaPlace): NodeJS.ProcessEnv {
  return {...(place.env ?? process.env), PWD: place.cwd}
}

/** The child's PID once it runs; a usage error when the program cannot be run (missing, not executable). */
async function spawned(child: ChildProcess, command: PumaCommand): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        usageError(`cannot run ${command.argv[0]}: ${error.code ?? error.message}`, {
          suggestion: 'pass --puma PATH (the puma executable to run)',
        }),
      )
    })
  })
  return child.pid!
}
