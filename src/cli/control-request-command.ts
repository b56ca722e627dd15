import {commandRefused, controlRequest} from '../control/client.js'
import {controlFor, requireControl} from '../target/index.js'
import {printable} from '../text/printable.js'
import {defineCommand} from './command.js'
import {controlFlags, selectorOf, TARGET_HELP, targetFlags} from './flags.js'

/**
 * The commands that exist only in Puma's control app (gc, gc-stats, thread-backtraces,
 * reload-worker-directory): one GET, Puma's answer as the result.
 */
export const controlRequestCommand = ({
  path,
  describe,
  ...help
}: {
  /** Text for a terminal or a log, from Puma's answer. */
  describe(answer: unknown): string
  examples: string[]
  /** The control app's path. */
  path: string
  summary: string
}) =>
  defineCommand({
    ...help,
    description: `Asks Puma's control server (activate_control_app): --control-url/--control-token, or the control_url and token in the state file. The token is never printed. Exit status: 0; 2 when Puma refuses the command; 3 when nothing answers (a stale state file); 4 when the token is refused.

${TARGET_HELP}`,
    flags: {...targetFlags, ...controlFlags},

    async run(flags, {log, signal}) {
      const control = requireControl(await controlFor(selectorOf(flags)), `/${path}`)
      const answer = await controlRequest(control, path, {signal})
      if (answer.status !== 200) throw commandRefused(path, answer)
      let {body} = answer
      try {
        body = JSON.parse(answer.body)
      } catch {}

      // Puma's answer, printable (a thread's backtrace keeps its lines).
      log(printable(describe(body), {keepNewlines: true}))
      return body
    },
  })
