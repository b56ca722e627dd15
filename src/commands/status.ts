import {BaseCommand, TARGET_HELP, targetFlags} from '../base-command.js'
import {paintFor} from '../render/colour.js'
import {renderStatus} from '../render/status.js'
import {type ServerStatus, serverStatus} from '../status.js'

export default class Status extends BaseCommand {
  static summary = 'Show the Puma master and its workers.'
  static description = `Prints the master's PID, Puma version, mode, binds, tag, working folder and uptime, and each worker's index, PID, uptime, memory and CPU time, from the process table.

Exit status: 0 when the master is running, 3 when it is not (or cannot be identified).

${TARGET_HELP}`

  static examples = ['<%= config.bin %> status', '<%= config.bin %> status --pidfile tmp/pids/puma.pid', '<%= config.bin %> status --dir /srv/app/current --json']

  static flags = {...targetFlags}

  async run(): Promise<ServerStatus> {
    const {flags} = await this.parse(Status)
    const status = await serverStatus(await this.findTarget(flags))
    if (!this.jsonEnabled()) this.log(renderStatus(status, await paintFor(process.stdout)).join('\n'))
    return status
  }
}
