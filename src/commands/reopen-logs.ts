import {reopenLogs} from '../actions/reopen-logs.js'
import {defineCommand} from '../cli/command.js'
import {selectorOf, TARGET_HELP, targetFlags} from '../cli/flags.js'
import {findTarget} from '../target/index.js'

export default defineCommand({
  summary: 'Make Puma reopen its log files (SIGHUP), after logrotate moved them.',
  description: `Only with stdout_redirect does Puma treat SIGHUP as "reopen the logs"; without it, SIGHUP stops Puma. So ctl sends it only when the master's stdout is a log file and either Puma's config file (config/puma/<env>.rb or config/puma.rb in the master's folder, read, not run) calls stdout_redirect, or the log's first line is the "=== puma startup" marker Puma wrote since the master started; it refuses otherwise (exit 2) unless --force.

${TARGET_HELP}`,
  examples: ['<%= config.bin %> reopen-logs --pidfile tmp/pids/puma.pid'],
  flags: {
    ...targetFlags,
    force: {
      kind: 'boolean',
      summary: "Send SIGHUP even when ctl cannot confirm Puma's stdout_redirect.",
      default: false,
    },
  },

  async run(flags, {log, note, signal}) {
    const target = await findTarget(selectorOf(flags))
    for (const warning of target.warnings ?? []) note(`Warning: ${warning}`)
    const result = await reopenLogs(target, {force: flags.force, signal})
    const shown = result.evidence ? ` (stdout_redirect shown by its ${result.evidence})` : ''
    log(`Sent SIGHUP to Puma master ${result.pid}${result.log ? `: it reopens ${result.log}${shown}` : ''}`)
    return result
  },
})
