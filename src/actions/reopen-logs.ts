import {open} from 'node:fs/promises'

import {usageError} from '../errors.js'
import {sendSignal} from '../signals.js'
import {type Target} from '../target/find.js'
import {isRegularFile, readProcessDetails} from '../target/process-table.js'

/** Puma writes this line each time stdout_redirect (re)opens its log: only then is HUP a reopen. */
const REDIRECT_MARKER = '=== puma startup:'
const MARKER_SEARCH_BYTES = 64 * 1024

export interface ReopenResult {
  log?: string
  pid: number
  signal: NodeJS.Signals
}

/**
 * HUP reopens the logs only when Puma runs with stdout_redirect; otherwise Puma (3.6+) treats it as
 * a stop. So it is sent only when the master's stdout is a regular file showing the redirect's marker.
 */
export async function reopenLogs(target: Target, options: {force: boolean}): Promise<ReopenResult> {
  const {pid} = target.master
  const log = readProcessDetails(pid)?.stdout
  if (!options.force) {
    if (!isRegularFile(log)) {
      throw usageError(
        `refusing to send SIGHUP: pid ${pid}'s stdout is ${log ?? 'unknown'}, not a log file, so Puma runs without stdout_redirect and would stop`,
        {
          suggestion: 'configure stdout_redirect in Puma, or pass --force if you know better',
        },
      )
    }

    if (!(await headContains(log!, REDIRECT_MARKER))) {
      throw usageError(
        `refusing to send SIGHUP: ${log} does not show Puma's stdout_redirect marker ("${REDIRECT_MARKER}"), and without stdout_redirect SIGHUP stops Puma`,
        {
          suggestion: 'pass --force if Puma does use stdout_redirect',
        },
      )
    }
  }

  return {pid, signal: sendSignal(target.master, 'reopen-logs'), log}
}

async function headContains(path: string, text: string): Promise<boolean> {
  const file = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(MARKER_SEARCH_BYTES)
    const {bytesRead} = await file.read(buffer, 0, buffer.length, 0)
    return buffer.subarray(0, bytesRead).includes(text)
  } finally {
    await file.close()
  }
}
