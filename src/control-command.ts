import {BaseCommand, controlFlags, TARGET_HELP, targetFlags} from './base-command.js'
import {commandRefused, controlRequest} from './control/client.js'
import {reach} from './target/reach.js'
import {requireControl} from './target/endpoint.js'

/**
 * The commands that exist only in Puma's control app (gc, gc-stats, thread-backtraces,
 * reload-worker-directory): one GET, Puma's answer as the result.
 */
export abstract class ControlRequestCommand extends BaseCommand {
  static flags = {...targetFlags, ...controlFlags}

  static controlHelp = `Asks Puma's control server (activate_control_app): --control-url/--control-token, or the control_url and token in the state file. The token is never printed. Exit status: 0; 2 when Puma refuses the command; 3 when nothing answers (a stale state file); 4 when the token is refused.

${TARGET_HELP}`

  /** The control app's path. */
  protected abstract readonly path: string

  /** Text for a terminal or a log, from Puma's answer. */
  protected abstract describe(answer: unknown): string

  async run(): Promise<unknown> {
    const {flags} = await this.parse(this.constructor as typeof ControlRequestCommand)
    const control = requireControl((await reach(flags)).control, `/${this.path}`)
    const answer = await controlRequest(control, this.path, {signal: this.interrupt.signal})
    if (answer.status !== 200) throw commandRefused(this.path, answer)
    let body: unknown = answer.body
    try {
      body = JSON.parse(answer.body)
    } catch {}

    this.log(this.describe(body))
    return body
  }
}
