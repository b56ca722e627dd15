import {ControlRequestCommand} from '../control-command.js'

export default class GcStats extends ControlRequestCommand {
  static summary = "Show the Puma master's Ruby GC.stat (control server's /gc-stats)."
  static description = ControlRequestCommand.controlHelp
  static examples = ['<%= config.bin %> gc-stats --state tmp/pids/puma.state', '<%= config.bin %> gc-stats --state /srv/app/shared/tmp/pids/puma.state --json']
  protected readonly path = 'gc-stats'
  protected describe(answer: unknown): string {
    return Object.entries(answer as Record<string, unknown>)
      .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
      .join('\n')
  }
}
