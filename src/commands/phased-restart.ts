import {defineCommand} from '../cli/command.js'
import {
  afterRestartFlags,
  controlFlags,
  MAX_WAIT_SECONDS,
  ndjsonFlag,
  selectorOf,
  TARGET_HELP,
  targetFlags,
  viaFlag,
  waitFlags,
  waitOptionsOf,
} from '../cli/flags.js'
import {followingView} from '../render/following-view.js'
import {phasedRestart, refork, restart, type RestartOptions, type RestartRun} from '../restart/api.js'
import {CHECK_TIMEOUT_SECONDS} from '../restart/boot-gate.js'
import {resumeLine} from '../restart/run.js'

const STARTS: Record<'hot' | 'phased' | 'refork', (options: RestartOptions) => RestartRun> = {
  hot: restart,
  phased: phasedRestart,
  refork,
}

/** phased-restart, restart and refork differ only in what they send (and their help). */
export const restartCommand = (
  kind: keyof typeof STARTS,
  help: {description: string; examples: string[]; summary: string},
) =>
  defineCommand({
    ...help,
    flags: {
      ...targetFlags,
      ...controlFlags,
      ...viaFlag,
      ...ndjsonFlag,
      ...waitFlags,
      wait: {
        kind: 'boolean',
        summary: 'Wait for the restart to finish (--no-wait: send the signal and return, like pumactl).',
        default: true,
        allowNo: true,
      },
      log: {
        kind: 'string',
        summary: "Puma's log file (default: where the master's stdout goes).",
        exclusive: ['journal'],
      },
      journal: {
        kind: 'string',
        summary:
          "Follow this systemd unit's journal (journalctl -u UNIT); found on its own when the master logs to the journal.",
        exclusive: ['log'],
      },
      check: {
        kind: 'boolean',
        summary:
          'Prove the new release boots (its config and config.ru loaded as the master would, nothing bound) before the signal, even for a real phased restart. Default: before every hot restart.',
        default: false,
        exclusive: ['no-check'],
        helpGroup: 'CHECKS',
      },
      'no-check': {
        kind: 'boolean',
        summary: 'Send the signal without the boot check (a broken release then takes a hot-restarting master down).',
        default: false,
        exclusive: ['check', 'check-command'],
        helpGroup: 'CHECKS',
      },
      'check-command': {
        kind: 'string',
        summary:
          "Your own boot check instead of ctl's, run with sh -c in the app folder as the master's user; exit status 0 passes.",
        helpGroup: 'CHECKS',
      },
      'check-timeout': {
        kind: 'integer',
        summary: 'Seconds the boot check may take; a check still running then fails (its processes killed).',
        default: CHECK_TIMEOUT_SECONDS,
        min: 1,
        max: MAX_WAIT_SECONDS,
        helpGroup: 'CHECKS',
      },
      ...afterRestartFlags,
    },

    async run(flags, {json, log, showing, signal, terminal}) {
      const view = await followingView(flags, {json, terminal})
      showing(view)
      const options: RestartOptions = {
        ...selectorOf(flags),
        via: flags.via,
        wait: flags.wait,
        log: flags.log,
        journal: flags.journal,
        ...waitOptionsOf(flags),
        check: checkFlag(flags),
        checkCommand: flags['check-command'],
        checkTimeoutMs: flags['check-timeout'] * 1000,
        signal,
      }
      const run = STARTS[kind](options)
      for await (const event of run) {
        // --no-wait follows nothing: the lines at the end say what was sent, and how to follow it later.
        if (event.type !== 'sent') view.update(event)
        else if (flags.wait) view.started(event.start)
      }

      const report = await run.result
      view.stop()
      log(report.summary)
      if (!report.waited && report.resume) log(resumeLine(report.resume))
      return report
    },
  })

/** --check and --no-check, or neither (ctl decides). */
const checkFlag = (flags: {check: boolean; 'no-check': boolean}) =>
  flags.check ? true : flags['no-check'] ? false : undefined

export default restartCommand('phased', {
  summary: 'Phased restart (SIGUSR1): replace the workers one by one, and wait until every worker runs the new code.',
  description: `Sends SIGUSR1, then follows Puma's log until every worker has booted in the new phase. Exits 0 only then. Exits 5 as soon as a worker fails to boot (quoting its error lines and saying what still serves), 6 when --timeout passes (listing the workers still on the old phase), 7 when the master dies. With --soak SECONDS ctl then keeps watching that long: a new worker that dies meanwhile is exit 5 (naming it and when it died), the master's exit 7. With --stall-timeout SECONDS, a restart that makes no progress for that long exits 6 naming the stuck step (an old worker draining, a new one booting). Ctrl-C stops waiting (exit 130; SIGTERM 143, SIGHUP 129) and sends nothing more.

With --expect-dir and --health-url, the restart must then also prove the new release runs: every new worker in the folder --expect-dir points to, and the URL answering 2xx (exit 8 otherwise). ctl also warns before signalling when Puma was started inside a resolved release folder, where a phased restart reloads the old code.

Phased restarts need cluster mode without preload_app!; otherwise Puma does a hot restart instead: ctl warns before signalling when it can tell, and then waits for what Puma really does. Before such a hot restart (preload_app!, single mode, Puma 7+'s default preload with 2+ workers) ctl first proves the new release boots, as \`ctl restart\` does: a release that raises is refused with exit 5 and nothing is sent (--check runs this check before a real phased restart too; --no-check skips it).

The log is --log, or the file the master's stdout/stderr points to (Puma's stdout_redirect), or the journal of the master's systemd unit (--journal UNIT, or found on its own when the master's stdout is the journal). Where there is none but Puma's control server is known (--state, --control-url), ctl polls /stats instead; with both, the log leads (it carries the error lines) and /stats confirms the end.

${TARGET_HELP}`,
  examples: [
    '<%= config.bin %> phased-restart --pidfile tmp/pids/puma.pid',
    '<%= config.bin %> phased-restart --timeout 600 --log log/puma.log',
    '<%= config.bin %> phased-restart --json',
    '<%= config.bin %> phased-restart --ndjson',
  ],
})
