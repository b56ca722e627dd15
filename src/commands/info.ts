import {info} from '../actions/info.js'
import {defineCommand} from '../cli/command.js'
import {selectorOf, TARGET_HELP, targetFlags} from '../cli/flags.js'
import {findTarget} from '../target/index.js'

export default defineCommand({
  summary: "Make Puma write its threads' backtraces to its log (SIGPWR on Linux, Puma 8.0+ only).",
  description: `Before Puma 8.0, SIGPWR is not trapped and kills the server, so ctl refuses (exit 2); \`ctl thread-backtraces\` gets the same backtraces from the control server.

${TARGET_HELP}`,
  examples: ['<%= config.bin %> info --pidfile tmp/pids/puma.pid', '<%= config.bin %> info --tag myapp'],
  flags: {...targetFlags},

  async run(flags, {log, note}) {
    const target = await findTarget(selectorOf(flags))
    for (const warning of target.warnings ?? []) note(`Warning: ${warning}`)
    const result = info(target)
    log(`Sent ${result.signal} to Puma master ${result.pid}: the backtraces are in its log`)
    return result
  },
})
