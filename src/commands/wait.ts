import {defineCommand} from '../cli/command.js'
import {
  afterRestartFlags,
  controlFlags,
  ndjsonFlag,
  selectorOf,
  TARGET_HELP,
  targetFlags,
  waitFlags,
  waitOptionsOf,
} from '../cli/flags.js'
import {followingView} from '../render/following-view.js'
import {waitFor} from '../restart/api.js'
import {MAX_TOKEN_CHARS} from '../restart/resume-token.js'

export default defineCommand({
  summary: 'Follow a restart already sent (--no-wait, Ctrl-C, another tool) to its verdict; sends nothing.',
  description: `With --since TOKEN (the \`resume\` value a restart printed: \`ctl phased-restart --no-wait\`, or a wait stopped by Ctrl-C, SIGTERM or SIGHUP), ctl waits as the restart command would have: against the same baseline taken just before the signal (the master's workers then, where its log ended), reading the log from there, so a restart that finished meanwhile is found done at once (exit 0), one that failed gives its failure (5, quoting the error lines; 7 when the master has exited), and one still under way is followed. Exit codes, --json, --ndjson, --soak, --stall-timeout, --expect-dir and --health-url are the restart's; --timeout counts from the start of \`ctl wait\`. The token must be for the master found here (the same PID and start time), else exit 2. A log rotated since the signal is read from its start, with a warning.

Without --since only Puma's /stats can say which workers are old (a worker's phase below the master's): a phased restart under way is followed to its verdict; when every worker runs the master's phase, booted, ctl says just that and exits 0 ("no restart under way that ctl can see"): it cannot tell a finished restart from one not begun. Without /stats (no control server known) it refuses (exit 2).

${TARGET_HELP}`,
  examples: [
    '<%= config.bin %> phased-restart --no-wait --json   # prints "resume": "v1.…"',
    '<%= config.bin %> wait --since v1.eyJraW5kIjoi… --timeout 600',
    '<%= config.bin %> wait --state tmp/pids/puma.state   # without a token: /stats decides',
  ],
  flags: {
    ...targetFlags,
    ...controlFlags,
    ...ndjsonFlag,
    since: {
      kind: 'string',
      summary: `The \`resume\` token a restart printed (at most ${MAX_TOKEN_CHARS} characters): the baseline to wait against.`,
    },
    ...waitFlags,
    ...afterRestartFlags,
  },

  async run(flags, {json, log, showing, signal, terminal}) {
    const view = await followingView(flags, {json, terminal})
    showing(view)
    const run = waitFor({
      ...selectorOf(flags),
      since: flags.since,
      ...waitOptionsOf(flags),
      signal,
    })
    for await (const event of run) {
      if (event.type === 'sent') view.started(event.start)
      else view.update(event)
    }

    const report = await run.result
    view.stop()
    log(report.summary)
    return report
  },
})
