import {defineCommand} from '../cli/command.js'
import {controlFlags, selectorOf, TARGET_HELP, targetFlags} from '../cli/flags.js'
import {fetchStatsReport} from '../control/stats.js'
import {paintFor} from '../render/colour.js'
import {renderStats} from '../render/stats.js'
import {controlFor, requireControl} from '../target/index.js'

export default defineCommand({
  summary: "Show Puma's /stats: per worker index, pid, phase, booted, last check-in, threads, backlog, requests.",
  description: `Asks Puma's control server (activate_control_app). Its URL and token come from --control-url/--control-token, or from the state file (--state, or the default state files). The token is never printed.

--json prints ctl's reading (camelCase, as in the table) and, under "puma", Puma's /stats answer as it came, every field under Puma's own name (versions, busy_threads, backlog_max, reactor_max, io_threads, pool_capacity, …). On Puma 7.0+ every /stats call resets backlog_max and reactor_max.

Exit status: 0; 3 when nothing answers at the control URL (a stale state file); 4 when the token is refused.

${TARGET_HELP}`,
  examples: [
    '<%= config.bin %> stats --state tmp/pids/puma.state',
    '<%= config.bin %> stats --control-url unix:///srv/app/tmp/pumactl.sock --control-token "$TOKEN" --json',
  ],
  flags: {...targetFlags, ...controlFlags},

  async run(flags, {json, log, signal, terminal}) {
    const control = requireControl(await controlFor(selectorOf(flags)), '/stats')
    const stats = await fetchStatsReport(control, {signal})
    if (!json) log(renderStats(stats, await paintFor(terminal.stdout, terminal.env)).join('\n'))
    return stats
  },
})
