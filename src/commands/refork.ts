import {refork} from '../actions/refork.js'
import {defineCommand} from '../cli/command.js'
import {controlFlags, selectorOf, TARGET_HELP, targetFlags, viaFlag} from '../cli/flags.js'
import {masterOf, reach, viaFor} from '../target/index.js'

export default defineCommand({
  summary: "Refork workers from worker 0 (SIGURG, or the control server's /refork). Needs fork_worker.",
  description: `With fork_worker (Puma 5+), workers 1.. are replaced by forks of worker 0, sharing its warmed-up memory. Without fork_worker Puma ignores SIGURG (and its control app answers 404, exit 2).

${TARGET_HELP}`,
  examples: [
    '<%= config.bin %> refork --pidfile tmp/pids/puma.pid',
    '<%= config.bin %> refork --via control --state tmp/pids/puma.state',
  ],
  flags: {...targetFlags, ...controlFlags, ...viaFlag},

  async run(flags, {log, note, signal}) {
    const reached = await reach(selectorOf(flags))
    const delivery = await refork(reached, viaFor(reached, flags.via), signal)
    for (const warning of delivery.warnings) note(`Warning: ${warning}`)
    const master = masterOf(reached)
    const to = delivery.via === 'signal' && master ? `Puma master ${master.pid}` : "Puma's control server"
    log(`Sent ${delivery.sent} to ${to}`)
    return delivery
  },
})
