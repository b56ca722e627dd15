import {BaseCommand, controlFlags, TARGET_HELP, targetFlags} from '../base-command.js'
import {fetchStats, type PumaStats} from '../control/stats.js'
import {paintFor} from '../render/colour.js'
import {renderStats} from '../render/stats.js'
import {reach} from '../target/reach.js'
import {requireControl} from '../target/endpoint.js'

export default class Stats extends BaseCommand {
  static summary = "Show Puma's /stats: per worker index, pid, phase, booted, last check-in, threads, backlog, requests."
  static description = `Asks Puma's control server (activate_control_app). Its URL and token come from --control-url/--control-token, or from the state file (--state, or the default state files). The token is never printed.

Exit status: 0; 3 when nothing answers at the control URL (a stale state file); 4 when the token is refused.

${TARGET_HELP}`

  static examples = ['<%= config.bin %> stats --state tmp/pids/puma.state', '<%= config.bin %> stats --control-url unix:///srv/app/tmp/pumactl.sock --control-token "$TOKEN" --json']

  static flags = {...targetFlags, ...controlFlags}

  async run(): Promise<PumaStats> {
    const {flags} = await this.parse(Stats)
    const control = requireControl((await reach(flags)).control, '/stats')
    const stats = await fetchStats(control, {signal: this.interrupt.signal})
    if (!this.jsonEnabled()) this.log(renderStats(stats, await paintFor(process.stdout)).join('\n'))
    return stats
  }
}
