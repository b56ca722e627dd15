import {refuseIfInterrupted, usageError} from '../errors.js'
import {checkRedirect, procSources, type RedirectSources} from '../log/redirect-evidence.js'
import {assertMaySignal, sendSignal} from '../signals.js'
import {type Target} from '../target/find.js'
import {type Kill} from '../target/liveness.js'
import {readProcessDetails} from '../target/process-table.js'

export interface ReopenResult {
  /** What showed stdout_redirect: `config PATH` or `marker`; absent with --force. */
  evidence?: string
  log?: string
  pid: number
  signal: NodeJS.Signals
}

export interface ReopenOptions {
  /** Config files the master runs with, when the caller knows them (see checkRedirect). */
  configs?: string[]
  force: boolean
  /** Default process.kill: asks whether the master may be signalled at all. */
  kill?: Kill
  /** Aborted (ctl got SIGINT, SIGTERM or SIGHUP) while the redirect was checked: nothing is sent. */
  signal?: AbortSignal
}

/**
 * HUP reopens the logs only when Puma runs with stdout_redirect; otherwise Puma (3.6+) treats it as
 * a stop. So it is sent only when the master's stdout is a regular file and Puma's config or its
 * own startup marker shows the redirect (redirect-evidence.ts).
 */
export async function reopenLogs(
  target: Target,
  options: ReopenOptions,
  sources: RedirectSources = procSources,
): Promise<ReopenResult> {
  const {pid} = target.master
  // Permission first: another user's master shows ctl nothing of its stdout, and the refusal would mislead.
  assertMaySignal(target.master, options.kill)
  if (options.force) {
    const log = readProcessDetails(pid)?.stdout
    return {pid, signal: sendSignal(target.master, 'reopen-logs'), log}
  }

  const check = await checkRedirect(pid, {configs: options.configs}, sources)
  if (check.kind === 'not-a-file') {
    throw usageError(
      `refusing to send SIGHUP: pid ${pid}'s stdout is ${check.stdout ?? 'unknown'}, not a log file, so Puma runs without stdout_redirect and would stop`,
      {
        suggestion: 'configure stdout_redirect in Puma, or pass --force if you know better',
      },
    )
  }

  if (check.kind === 'no-evidence') {
    throw usageError(
      `refusing to send SIGHUP: nothing shows that Puma writes ${check.log} through stdout_redirect (${check.reasons.join('; ')}), and without it SIGHUP stops Puma`,
      {
        suggestion: 'configure stdout_redirect in Puma, or pass --force if you know better',
      },
    )
  }

  refuseIfInterrupted(options.signal)
  return {pid, signal: sendSignal(target.master, 'reopen-logs'), log: check.log, evidence: check.evidence}
}
