import {defineCommand} from '../cli/command.js'
import {MAX_WAIT_SECONDS, ndjsonFlag} from '../cli/flags.js'
import {followingView} from '../render/following-view.js'
import {updatesWorthTelling} from '../restart/api.js'
import {runPumaInForeground, startOptions} from '../restart/start-options.js'
import {startPuma} from '../restart/start.js'

export default defineCommand({
  summary: 'Start Puma for the app in this folder (detached), and wait until it really serves.',
  description: `Starts Puma with the app's config as pumactl start does (config/puma.rb, or -F), but detached, where pumactl start runs Puma in the foreground inside its own process: its own session, stdin closed, stdout and stderr appended to --log (default log/puma.log under the app's folder), so it survives ctl's exit and a closed terminal. Unlike pumactl, ctl then waits: the banner tells the mode and the workers, and ctl exits 0 only once every worker has booted and serves (single mode: "Use Ctrl-C to stop" and Puma's server thread). When the config's stdout_redirect moves Puma's output, ctl follows it there too.

Exit status: 0 serving; 5 when the app cannot boot (Puma exited, or a worker failed to boot: ctl then stops the Puma it started, which would retry forever), with Puma's error lines; 6 on --timeout (Puma left running); 130 on Ctrl-C (Puma left running); 2 when a Puma master already runs for this app (nothing started; a master of another app does not count).

Which Puma: --puma PATH; else the app's bin/puma when executable; else \`bundle exec puma\` when the app has a Gemfile and bundler is installed; else puma on PATH. Arguments after -- go to Puma as they are.

--foreground runs Puma in place of ctl, for a Procfile or a container: Node cannot exec, so Puma runs as ctl's child with ctl's stdin, stdout and stderr, gets every signal ctl gets (TERM, INT, USR1, USR2, HUP, URG, TTIN, TTOU), and ctl exits with Puma's status. The master's PID is then ctl's child, not ctl. For systemd prefer ExecStart=bundle exec puma (or bin/puma) directly: systemd then watches Puma itself, Type=notify works (Puma's sd_notify comes from the main PID), and KillMode signals are not sent twice.`,
  examples: [
    '<%= config.bin %> start',
    '<%= config.bin %> start --dir /srv/app/current -e production --timeout 120',
    '<%= config.bin %> start -- -w 2 -b tcp://127.0.0.1:9292',
    '<%= config.bin %> start --foreground',
  ],
  passThrough: "PUMA'S OPTIONS",
  flags: {
    dir: {kind: 'string', summary: "The app's folder (default: the current folder)."},
    'config-file': {
      kind: 'string',
      char: 'F',
      summary: "Puma's config file, passed as -C (default: Puma's own search).",
    },
    environment: {kind: 'string', char: 'e', summary: "The app's environment, passed as -e."},
    log: {kind: 'string', summary: "Where Puma's stdout and stderr are appended (default: log/puma.log in the app)."},
    puma: {
      kind: 'string',
      summary: 'The puma executable to run (default: bin/puma, bundle exec puma, or puma on PATH).',
    },
    timeout: {
      kind: 'integer',
      summary: 'Seconds to wait for Puma to serve.',
      default: 60,
      min: 1,
      max: MAX_WAIT_SECONDS,
    },
    wait: {
      kind: 'boolean',
      summary: 'Wait until Puma serves (--no-wait: return as soon as Puma runs, without a verdict).',
      default: true,
      allowNo: true,
    },
    foreground: {
      kind: 'boolean',
      summary: "Run Puma in place of ctl (a Procfile's web:), passing signals on; ctl exits with Puma's status.",
      default: false,
      exclusive: ['log', 'ndjson'],
    },
    ...ndjsonFlag,
  },

  async run(flags, {json, log, note, passThrough, showing, signal, terminal}) {
    const options = startOptions(flags, passThrough)
    if (flags.foreground) return runPumaInForeground(options, note)
    const view = await followingView(flags, {json, terminal})
    showing(view)
    const updates = updatesWorthTelling((event) => event.type === 'update' && view.update(event))
    const report = await startPuma({
      ...options,
      wait: flags.wait,
      timeoutMs: flags.timeout * 1000,
      signal,
      onStart: (start) => view.started(start),
      onUpdate: updates,
    })
    view.stop()
    log(report.summary)
    return report
  },
})
