import {Flags} from '@oclif/core'

import {reopenLogs, type ReopenResult} from '../actions/reopen-logs.js'
import {BaseCommand, TARGET_HELP, targetFlags} from '../base-command.js'
import {findTarget} from '../target/find.js'

export default class ReopenLogs extends BaseCommand {
  static summary = "Make Puma reopen its log files (SIGHUP), after logrotate moved them."
  static description = `Only with stdout_redirect does Puma treat SIGHUP as "reopen the logs"; without it, SIGHUP stops Puma. So ctl sends it only when the master's stdout is a log file that shows stdout_redirect's "=== puma startup" marker, and refuses otherwise (exit 2) unless --force.

${TARGET_HELP}`

  static examples = ['<%= config.bin %> reopen-logs --pidfile tmp/pids/puma.pid']

  static flags = {
    ...targetFlags,
    force: Flags.boolean({summary: "Send SIGHUP even when ctl cannot confirm Puma's stdout_redirect."}),
  }

  async run(): Promise<ReopenResult> {
    const {flags} = await this.parse(ReopenLogs)
    const result = await reopenLogs(await findTarget(flags), {force: flags.force})
    this.log(`Sent SIGHUP to Puma master ${result.pid}${result.log ? `: it reopens ${result.log}` : ''}`)
    return result
  }
}
