import {accessSync, constants, statSync} from 'node:fs'
import {resolve} from 'node:path'

import {notPermittedError, usageError} from '../errors.js'
import {isRegularFile, type ProcessDetails} from '../target/process-table.js'

export interface LogSource {
  path: string
}

/**
 * Where the master writes its log: --log, else its stdout and stderr when they are regular files
 * (stdout_redirect, or `puma >> log`). Puma ≤ 4.1 writes a failing worker's exception to stderr,
 * so a separate stderr file is followed too. Empty when the log goes to a pipe, a tty or the journal.
 */
export function locateLogs(
  master: ProcessDetails | undefined,
  logFlag: string | undefined,
  cwd = process.cwd(),
): LogSource[] {
  if (logFlag) return [{path: resolve(cwd, logFlag)}]
  const sources: LogSource[] = [] // none when only a control URL is known
  for (const path of [master?.stdout, master?.stderr]) {
    if (path && isRegularFile(path) && !sources.some((source) => source.path === path)) sources.push({path})
  }

  return sources
}

const PASS_THE_LOG = 'pass the file Puma logs to (its stdout_redirect), or --no-wait to only send the signal'

/**
 * A log the wait will follow must be a regular file ctl can read, known before anything is sent: a
 * mistyped --log would otherwise be waited for until --timeout (exit 6, which deploys take for
 * "roll back"), and an unreadable one would end in a raw EACCES. `shown` names it for messages
 * ("--log log/pum.log").
 */
export function checkFollowable(path: string, shown: string): void {
  const unreadable = () =>
    notPermittedError(`cannot read ${shown}: permission denied`, {
      suggestion: 'run ctl as the user that runs Puma, or pass --no-wait to only send the signal',
    })
  let isFile: boolean
  try {
    const stats = statSync(path)
    if (stats.isDirectory()) throw usageError(`${shown} is a folder, not a log file`, {suggestion: PASS_THE_LOG})
    isFile = stats.isFile()
  } catch (error) {
    const {code} = error as NodeJS.ErrnoException
    if (code === 'ENOENT' || code === 'ENOTDIR') throw usageError(`${shown} does not exist`, {suggestion: PASS_THE_LOG})
    if (code === 'EACCES') throw unreadable()
    throw error
  }

  if (!isFile) throw usageError(`${shown} is not a regular file`, {suggestion: PASS_THE_LOG})
  try {
    accessSync(path, constants.R_OK)
  } catch {
    throw unreadable()
  }
}
