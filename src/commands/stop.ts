import {Flags} from '@oclif/core'

import {stopServer, type StopResult} from '../actions/stop.js'
import {BaseCommand, controlFlags, TARGET_HELP, targetFlags, viaFlag} from '../base-command.js'
import {reach, viaFor} from '../target/reach.js'

export default class Stop extends BaseCommand {
  static summary = 'Stop Puma gracefully (SIGTERM) and wait until the master has exited.'
  static description = `Puma stops accepting connections, lets its workers finish their requests (up to worker_shutdown_timeout), and exits after the last worker. ctl waits for that.

Exit status: 0 when the master has exited, 6 when it is still running after --timeout, 3 when no master was found, 4 when not permitted.

${TARGET_HELP}`

  static examples = ['<%= config.bin %> stop --pidfile tmp/pids/puma.pid', '<%= config.bin %> stop --timeout 120']

  static flags = {
    ...targetFlags,
    ...controlFlags,
    ...viaFlag,
    timeout: Flags.integer({summary: 'Seconds to wait for the master to exit.', default: 60, min: 1}),
  }

  /** halt shares everything but the signal. */
  protected readonly kind: 'stop' | 'halt' = 'stop'

  async run(): Promise<StopResult> {
    const {flags} = await this.parse(this.constructor as typeof Stop)
    const reached = await reach(flags)
    const master = reached.target?.master
    const via = viaFor(reached, flags.via)
    this.note(`Stopping Puma${master ? ` master ${master.pid}` : ''} (${this.kind}, by ${via}); waiting up to ${flags.timeout} s for it to exit...`)
    const result = await stopServer({command: this.kind, via, master, control: reached.control, timeoutMs: flags.timeout * 1000, signal: this.interrupt.signal})
    this.log(`Puma${result.pid ? ` master ${result.pid}` : ''} ${this.kind === 'stop' ? 'stopped' : 'halted'} in ${(result.durationMs / 1000).toFixed(1)} s (sent ${result.sent})`)
    return result
  }
}
