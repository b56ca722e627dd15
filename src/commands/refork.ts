import {BaseCommand, controlFlags, TARGET_HELP, targetFlags, viaFlag} from '../base-command.js'
import {refork} from '../actions/refork.js'
import {type Delivery} from '../deliver.js'
import {reach, viaFor} from '../target/reach.js'

export default class Refork extends BaseCommand {
  static summary = 'Refork workers from worker 0 (SIGURG, or the control server\'s /refork). Needs fork_worker.'
  static description = `With fork_worker (Puma 5+), workers 1.. are replaced by forks of worker 0, sharing its warmed-up memory. Without fork_worker Puma ignores SIGURG (and its control app answers 404, exit 2).

${TARGET_HELP}`

  static examples = ['<%= config.bin %> refork --pidfile tmp/pids/puma.pid', '<%= config.bin %> refork --via control --state tmp/pids/puma.state']

  static flags = {...targetFlags, ...controlFlags, ...viaFlag}

  async run(): Promise<Delivery> {
    const {flags} = await this.parse(Refork)
    const reached = await reach(flags)
    const delivery = await refork(reached, viaFor(reached, flags.via), this.interrupt.signal)
    for (const warning of delivery.warnings) this.note(`Warning: ${warning}`)
    this.log(`Sent ${delivery.sent} to ${delivery.via === 'control' ? "Puma's control server" : `Puma master ${reached.target?.master.pid}`}`)
    return delivery
  }
}
