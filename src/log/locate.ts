import {resolve} from 'node:path'

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
