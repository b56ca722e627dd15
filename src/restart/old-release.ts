import {statSync} from 'node:fs'
import {join} from 'node:path'

import {type ProcessDetails} from '../target/process-table.js'
import {isQuotablePath} from '../text/untrusted.js'

/**
 * The folder the running code came from, read before the signal: what a deploy tool rolls back to
 * when the restart fails. A worker's working folder is the release Puma changed into when it forked
 * it (the kernel resolves `current` to the release itself); single mode has only the master's.
 * Undefined when the kernel does not say, the workers disagree (an earlier restart left a mix), or
 * the folder holds no app (`isRelease`).
 */
export function oldReleaseOf(
  masterPid: number,
  workerPids: readonly number[],
  read: (pid: number) => Pick<ProcessDetails, 'cwd'> | undefined,
  isRelease: (folder: string) => boolean,
): string | undefined {
  const folders = new Set((workerPids.length > 0 ? workerPids : [masterPid]).map((pid) => read(pid)?.cwd))
  if (folders.size !== 1) return undefined
  const [folder] = folders
  // Shown in messages: a worker's app code can chdir anywhere, even to a name with control characters.
  if (folder === undefined || folder === '' || !isQuotablePath(folder)) return undefined
  // A deploy script points `current` at it: only a folder that is there and holds an app, never
  // "/path (deleted)" (a release since removed: a dangling `current`) or wherever app code chdir'd to.
  return isRelease(folder) ? folder : undefined
}

/** Whether `folder` holds an app Puma can load: its `config.ru`, Puma's default rackup file. */
export function holdsApp(folder: string): boolean {
  return statSync(join(folder, 'config.ru'), {throwIfNoEntry: false})?.isFile() ?? false
}
