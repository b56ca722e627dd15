import {noMasterError} from '../errors.js'
import {describeUnquoted, isQuotableNumber} from '../text/untrusted.js'

/** Linux's upper bound for pid_max; anything larger cannot be a process. */
const MAX_PID = 4_194_304

/**
 * Turns user- or file-supplied text into a PID that is safe to signal. 0 would signal our own
 * process group, -1 every process we may signal, 1 is init: all refused here, before any kill().
 * The text is quoted back only when it looks like a number (text/untrusted.ts): a pidfile may be
 * a symlink to a secret.
 */
export function parsePid(text: string, source: string): number {
  const trimmed = text.trim()
  if (!/^\d+$/.test(trimmed)) {
    throw noMasterError(`invalid ${source}: ${trimmed === '' ? 'it is empty' : notAPid(text)}`, {
      suggestion:
        source === '--pid'
          ? undefined
          : "a pidfile holds the master's PID and nothing else: check which file you passed",
    })
  }

  const pid = Number(trimmed)
  if (pid <= 1 || pid > MAX_PID) {
    // As given: 99999999999999999999 as a number prints as 100000000000000000000.
    throw noMasterError(
      `invalid ${source}: ${isQuotableNumber(trimmed) ? trimmed : `a ${trimmed.length}-digit number`} is not a PID ctl will signal (it must be between 2 and ${MAX_PID})`,
      {
        suggestion:
          pid <= 1 && source !== '--pid'
            ? 'a zeroed pidfile is usually left by a crashed or half-written start: check that Puma runs, then remove the file'
            : undefined,
      },
    )
  }

  return pid
}

function notAPid(text: string): string {
  const trimmed = text.trim()
  if (isQuotableNumber(trimmed)) return `${JSON.stringify(trimmed)} is not a process id`
  return `not a process id (${describeUnquoted(text, 'a number')}, not shown)`
}
