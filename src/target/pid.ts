import {noMasterError} from '../errors.js'

/** Linux's upper bound for pid_max; anything larger cannot be a process. */
const MAX_PID = 4_194_304

/**
 * Turns user- or file-supplied text into a PID that is safe to signal. 0 would signal our own
 * process group, -1 every process we may signal, 1 is init: all refused here, before any kill().
 */
export function parsePid(text: string, source: string): number {
  const trimmed = text.trim()
  if (!/^\d+$/.test(trimmed)) {
    throw noMasterError(
      `invalid ${source}: ${trimmed === '' ? 'it is empty' : `${describeContent(text)} is not a process id`}`,
      {
        suggestion:
          source === '--pid'
            ? undefined
            : "a pidfile holds the master's PID and nothing else: check which file you passed",
      },
    )
  }

  const pid = Number(trimmed)
  if (pid <= 1 || pid > MAX_PID) {
    throw noMasterError(
      `invalid ${source}: ${pid} is not a PID ctl will signal (it must be between 2 and ${MAX_PID})`,
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

/** A short, printable rendering of untrusted content for error messages. */
export function describeContent(text: string): string {
  const printable = text.trim().replaceAll(/[^\u0020-\u007E]/g, '?')
  return JSON.stringify(printable.length > 40 ? `${printable.slice(0, 40)}…` : printable)
}
