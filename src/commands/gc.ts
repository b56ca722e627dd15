import {ControlRequestCommand} from '../control-command.js'

export default class Gc extends ControlRequestCommand {
  static summary = "Run Ruby's garbage collector in the Puma master (control server's /gc)."
  static description = ControlRequestCommand.controlHelp
  static examples = ['<%= config.bin %> gc --state tmp/pids/puma.state', '<%= config.bin %> gc --control-url tcp://127.0.0.1:9293 --control-token "$TOKEN"']
  protected readonly path = 'gc'
  protected describe(): string {
    return 'Puma ran GC.start in the master'
  }
}
