import {statSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {usageError} from '../errors.js'
import {type PumaCommand, pumaCommand} from './puma-command.js'
import {runInForeground} from './spawn-puma.js'
import {alreadyRunning, realStartDeps, type StartDeps} from './start.js'

/** The start flags, as the command line gives them. */
export interface StartFlags {
  'config-file'?: string
  dir?: string
  environment?: string
  log?: string
  puma?: string
}

/** What a start needs from the command line: the app's folder, the Puma to run, the log. */
export interface StartOptions {
  appDir: string
  command: PumaCommand
  /** -F (absolute) and -e. */
  config: {configFile?: string; environment?: string}
  logPath: string
}

/**
 * The app's folder (--dir, else the current folder; as given, not resolved: a `current` symlink
 * stays one), the Puma command, and the log (--log from the current folder, else log/puma.log in the
 * app). Usage errors, before anything starts, for a folder or log that cannot be.
 */
export function startOptions(flags: StartFlags, passThrough: readonly string[], cwd = process.cwd()): StartOptions {
  const appDir = resolve(cwd, flags.dir ?? '.')
  if (!isFolder(appDir)) throw usageError(`--dir ${flags.dir} is not a folder`)
  const logPath = flags.log === undefined ? join(appDir, 'log', 'puma.log') : resolve(cwd, flags.log)
  if (isFolder(logPath)) throw usageError(`--log ${flags.log ?? logPath} is a folder, not a log file`)
  const command = pumaCommand({
    appDir,
    cwd,
    puma: flags.puma,
    configFile: flags['config-file'],
    environment: flags.environment,
    passThrough,
  })
  const configFile = flags['config-file'] === undefined ? undefined : resolve(cwd, flags['config-file'])
  return {appDir, command, config: {configFile, environment: flags.environment}, logPath}
}

/**
 * --foreground: refuses as a start does when the app's master runs, then runs Puma in ctl's place
 * (spawn-puma.ts runInForeground), and ends ctl with Puma's status.
 */
export async function runPumaInForeground(
  options: StartOptions,
  note: (text: string) => void,
  deps: Pick<StartDeps, 'runningMasterOf'> = realStartDeps,
): Promise<never> {
  const running = await deps.runningMasterOf(options.appDir, options.config)
  if (running) throw alreadyRunning(running, options.appDir)
  return runInForeground(options.command, {
    cwd: options.appDir,
    onStarted: (pid) =>
      note(`Running Puma in the foreground (pid ${pid}, ${options.command.launcher}): ${options.command.shown}`),
  })
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}
