import {ControlRequestCommand} from '../control-command.js'

export default class ReloadWorkerDirectory extends ControlRequestCommand {
  static summary = "Make the Puma master change to its restart folder, so later workers load the new release (control server's /reload-worker-directory)."
  static description = ControlRequestCommand.controlHelp
  static examples = ['<%= config.bin %> reload-worker-directory --state /srv/app/shared/tmp/pids/puma.state']
  protected readonly path = 'reload-worker-directory'
  protected describe(): string {
    return 'Puma changed to its restart folder: workers started from now on load the code there'
  }
}
