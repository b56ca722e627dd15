import {info, type InfoResult} from '../actions/info.js'
import {BaseCommand, TARGET_HELP, targetFlags} from '../base-command.js'
import {findTarget} from '../target/find.js'

export default class Info extends BaseCommand {
  static summary = "Make Puma write its threads' backtraces to its log (SIGPWR on Linux, Puma 8.0+ only)."
  static description = `Before Puma 8.0, SIGPWR is not trapped and kills the server, so ctl refuses (exit 2); \`ctl thread-backtraces\` gets the same backtraces from the control server.

${TARGET_HELP}`

  static examples = ['<%= config.bin %> info --pidfile tmp/pids/puma.pid', '<%= config.bin %> info --tag myapp']

  static flags = {...targetFlags}

  async run(): Promise<InfoResult> {
    const {flags} = await this.parse(Info)
    const result = info(await findTarget(flags))
    this.log(`Sent ${result.signal} to Puma master ${result.pid}: the backtraces are in its log`)
    return result
  }
}
