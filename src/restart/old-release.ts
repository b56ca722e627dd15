import {type ProcessDetails} from '../target/process-table.js'
import {isQuotablePath} from '../text/untrusted.js'

/**
 * The folder the running code came from, read before the signal: what a deploy tool rolls back to
 * when the restart fails. A worker's working folder is the release Puma changed into when it forked
 * it (the kernel resolves `current` to the release itself); single mode has only the master's.
 * Undefined when the kernel does not say, or the workers disagree (an earlier restart left a mix).
 */
export function oldReleaseOf(
  masterPid: number,
  workerPids: readonly number[],
  read: (pid: number) => Pick<ProcessDetails, 'cwd'> | undefined,
): string | undefined {
  const folders = new Set((workerPids.length > 0 ? workerPids : [masterPid]).map((pid) => read(pid)?.cwd))
  if (folders.size !== 1) return undefined
  const [folder] = folders
  // A folder since deleted reads as "/path (deleted)": still the release's name, said as the kernel says it.
  // Shown in messages: a worker's app code can chdir anywhere, even to a name with control characters.
  return folder === undefined || folder === '' || !isQuotablePath(folder) ? undefined : folder
}
