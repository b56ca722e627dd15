import {resolve} from 'node:path'

import {isRegularFile, readProcessDetails} from '../target/process-table.js'

export interface LogSource {
  path: string
}

/**
 * Where the master writes its log: --log, else its stdout and stderr when they are regular files
 * (stdout_redirect, or `puma >> log`). Puma ≤ 4.1 writes a failing worker's exception to stderr,
 * so a separate stderr file is followed too. Empty when the log goes to a pipe, a tty or the journal.
 */
export function locateLogs(masterPid: number | undefined, logFlag: string | undefined, cwd = process.cwd()): LogSource[] {
  if (logFlag) return [{path: resolve(cwd, logFlag)}]
  if (masterPid === undefined) return [] // only a control URL is known
  const details = readProcessDetails(masterPid)
  const sources: LogSource[] = []
  for (const path of [details?.stdout, details?.stderr]) {
    if (path && isRegularFile(path) && !sources.some((source) => source.path === path)) sources.push({path})
  }

  return sources
}
