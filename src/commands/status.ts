import {defineCommand} from '../cli/command.js'
import {controlFlags, selectorOf, TARGET_HELP, targetFlags} from '../cli/flags.js'
import {paintFor} from '../render/colour.js'
import {renderStatus} from '../render/status.js'
import {status as serverStatus} from '../status.js'

export default defineCommand({
  summary: 'Show the Puma master and its workers.',
  description: `Prints the master's PID, Puma version, mode, binds, tag, working folder and uptime, and each worker's index, PID, uptime, memory and CPU time, from the process table. When Puma's control server is known (--state, --control-url), each worker's phase, boot state and last check-in too; a worker silent for longer than Puma's worker timeout (60 s) is flagged.

Exit status: 0 when the master is running, 3 when it is not (or cannot be identified).

${TARGET_HELP}`,
  examples: [
    '<%= config.bin %> status',
    '<%= config.bin %> status --pidfile tmp/pids/puma.pid',
    '<%= config.bin %> status --dir /srv/app/current --json',
  ],
  flags: {...targetFlags, ...controlFlags},

  async run(flags, {json, log, signal, terminal}) {
    const status = await serverStatus({...selectorOf(flags), signal})
    if (!json) log(renderStatus(status, await paintFor(terminal.stdout, terminal.env)).join('\n'))
    return status
  },
})
