import {stopServer} from '../actions/stop.js'
import {defineCommand} from '../cli/command.js'
import {controlFlags, MAX_WAIT_SECONDS, selectorOf, TARGET_HELP, targetFlags, viaFlag} from '../cli/flags.js'
import {masterOf, reach, viaFor} from '../target/index.js'

/** stop and halt differ only in the signal (and their help). */
export const stopCommand = (kind: 'halt' | 'stop', help: {description: string; examples: string[]; summary: string}) =>
  defineCommand({
    ...help,
    flags: {
      ...targetFlags,
      ...controlFlags,
      ...viaFlag,
      timeout: {
        kind: 'integer',
        summary: 'Seconds to wait for the master to exit.',
        default: 60,
        min: 1,
        max: MAX_WAIT_SECONDS,
      },
    },

    async run(flags, {note, log, signal}) {
      const reached = await reach(selectorOf(flags))
      const master = masterOf(reached)
      if (reached.kind === 'master') for (const warning of reached.target.warnings ?? []) note(`Warning: ${warning}`)
      const via = viaFor(reached, flags.via)
      note(
        `Stopping Puma${master ? ` master ${master.pid}` : ''} (${kind}, by ${via}); waiting up to ${flags.timeout} s for it to exit...`,
      )
      const result = await stopServer(reached, {command: kind, via, timeoutMs: flags.timeout * 1000, signal})
      log(
        `Puma${result.pid ? ` master ${result.pid}` : ''} ${kind === 'stop' ? 'stopped' : 'halted'} in ${(result.durationMs / 1000).toFixed(1)} s (sent ${result.sent})`,
      )
      return result
    },
  })

export default stopCommand('stop', {
  summary: 'Stop Puma gracefully (SIGTERM) and wait until the master has exited.',
  description: `Puma stops accepting connections, lets its workers finish their requests (up to worker_shutdown_timeout), and exits after the last worker. ctl waits for that.

Exit status: 0 when the master has exited, 6 when it is still running after --timeout, 3 when no master was found, 4 when not permitted.

${TARGET_HELP}`,
  examples: ['<%= config.bin %> stop --pidfile tmp/pids/puma.pid', '<%= config.bin %> stop --timeout 120'],
})
