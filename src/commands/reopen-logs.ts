import {reopenLogs} from '../actions/reopen-logs.js'
import {defineCommand} from '../cli/command.js'
import {selectorOf, TARGET_HELP, targetFlags} from '../cli/flags.js'
import {findTarget} from '../target/index.js'

export default defineCommand({
  summary: 'Make Puma reopen its log files (SIGHUP), after logrotate moved them.',
  description: `Only with stdout_redirect does Puma treat SIGHUP as "reopen the logs"; without it, SIGHUP stops Puma. So ctl sends it only when the master's stdout is a log file that shows stdout_redirect's "=== puma startup" marker, and refuses otherwise (exit 2) unless --force.

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

  async run(flags, {log}) {
    const result = await reopenLogs(await findTarget(selectorOf(flags)), {force: flags.force})
    log(`Sent SIGHUP to Puma master ${result.pid}${result.log ? `: it reopens ${result.log}` : ''}`)
    return result
  },
})
