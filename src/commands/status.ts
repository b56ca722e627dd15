import {BaseCommand, controlFlags, TARGET_HELP, targetFlags} from '../base-command.js'
import {paintFor} from '../render/colour.js'
import {renderStatus} from '../render/status.js'
import {status as serverStatus, type ServerStatus} from '../index.js'

export default class Status extends BaseCommand {
  static summary = 'Show the Puma master and its workers.'
  static description = `Prints the master's PID, Puma version, mode, binds, tag, working folder and uptime, and each worker's index, PID, uptime, memory and CPU time, from the process table. When Puma's control server is known (--state, --control-url), each worker's phase, boot state and last check-in too; a worker silent for longer than Puma's worker timeout (60 s) is flagged.

Exit status: 0 when the master is running, 3 when it is not (or cannot be identified).

${TARGET_HELP}`

  static examples = ['<%= config.bin %> status', '<%= config.bin %> status --pidfile tmp/pids/puma.pid', '<%= config.bin %> status --dir /srv/app/current --json']

  static flags = {...targetFlags, ...controlFlags}

  async run(): Promise<ServerStatus> {
    const {flags} = await this.parse(Status)
    const status = await serverStatus({...flags, controlUrl: flags['control-url'], controlToken: flags['control-token'], signal: this.interrupt.signal})
    if (!this.jsonEnabled()) this.log(renderStatus(status, await paintFor(process.stdout)).join('\n'))
    return status
  }
}
