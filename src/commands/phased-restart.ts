import {Flags} from '@oclif/core'

import {BaseCommand, controlFlags, TARGET_HELP, targetFlags, viaFlag} from '../base-command.js'
import {restartView, viewMode} from '../render/restart.js'
import {type RestartKind} from '../restart/machine.js'
import {type RestartReport, runRestart} from '../restart/run.js'

export default class PhasedRestart extends BaseCommand {
  static summary = 'Phased restart (SIGUSR1): replace the workers one by one, and wait until every worker runs the new code.'
  static description = `Sends SIGUSR1, then follows Puma's log until every worker has booted in the new phase. Exits 0 only then. Exits 5 as soon as a worker fails to boot (quoting its error lines and saying what still serves), 6 when --timeout passes (listing the workers still on the old phase), 7 when the master dies. Ctrl-C stops waiting (exit 130) and sends nothing more.

Phased restarts need cluster mode without preload_app!; otherwise Puma does a hot restart instead: ctl warns before signalling when it can tell, and then waits for what Puma really does.

The log is --log, or the file the master's stdout/stderr points to (Puma's stdout_redirect). Where there is none but Puma's control server is known (--state, --control-url), ctl polls /stats instead; with both, the log leads (it carries the error lines) and /stats confirms the end.

${TARGET_HELP}`

  static examples = [
    '<%= config.bin %> phased-restart --pidfile tmp/pids/puma.pid',
    '<%= config.bin %> phased-restart --timeout 600 --log log/puma.log',
    '<%= config.bin %> phased-restart --json',
  ]

  static flags = {
    ...targetFlags,
    ...controlFlags,
    ...viaFlag,
    timeout: Flags.integer({summary: 'Seconds to wait for the restart to finish.', default: 300, min: 1}),
    wait: Flags.boolean({summary: 'Wait for the restart to finish (--no-wait: send the signal and return, like pumactl).', default: true, allowNo: true}),
    log: Flags.string({summary: "Puma's log file (default: where the master's stdout goes)."}),
    quiet: Flags.boolean({char: 'q', summary: 'Print nothing but the result and errors.'}),
  }

  /** restart shares everything but the kind of restart. */
  protected readonly kind: RestartKind = 'phased'

  async run(): Promise<RestartReport> {
    const {flags} = await this.parse(this.constructor as typeof PhasedRestart)
    const reach = await this.reach(flags)
    const view = await restartView(viewMode({json: this.jsonEnabled(), quiet: flags.quiet}))
    this.view = view
    const report = await runRestart({
      kind: this.kind,
      master: reach.target?.master,
      control: reach.control,
      via: this.viaFor(reach, flags.via),
      timeoutMs: flags.timeout * 1000,
      logPath: flags.log,
      wait: flags.wait,
      signal: this.interrupt.signal,
      onStart: (start) => view.started(start),
      onUpdate: (state) => view.update(state),
    })
    view.stop()
    this.log(report.waited ? report.summary : `Sent ${report.sent} to Puma${report.pid ? ` master ${report.pid}` : ''} (not waiting)`)
    return report
  }
}
