import {changeWorkerCount, type WorkerCountResult} from '../actions/worker-count.js'
import {BaseCommand, TARGET_HELP, targetFlags} from '../base-command.js'
import {findTarget} from '../target/find.js'

export default class WorkerCountUp extends BaseCommand {
  static summary = 'Add one worker (SIGTTIN). Cluster mode only.'
  static description = `In single mode Puma does not trap SIGTTIN and the signal would suspend it, so ctl refuses (exit 2).

${TARGET_HELP}`

  static examples = ['<%= config.bin %> worker-count-up --pidfile tmp/pids/puma.pid', '<%= config.bin %> worker-count-up --tag myapp --json']

  static flags = {...targetFlags}

  /** worker-count-down shares everything but the direction. */
  protected readonly direction: 'up' | 'down' = 'up'

  async run(): Promise<WorkerCountResult> {
    const {flags} = await this.parse(this.constructor as typeof WorkerCountUp)
    const result = changeWorkerCount(await findTarget(flags), this.direction)
    this.log(`Sent ${result.signal} to Puma master ${result.pid}: workers ${result.workersBefore} → ${result.workersBefore + (this.direction === 'up' ? 1 : -1)}`)
    return result
  }
}
