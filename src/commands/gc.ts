import {ControlRequestCommand} from '../control-command.js'

export default class Gc extends ControlRequestCommand {
  static summary = "Run Ruby's garbage collector in the Puma master (control server's /gc)."
  static description = ControlRequestCommand.controlHelp
  protected readonly path = 'gc'
  protected describe(): string {
    return 'Puma ran GC.start in the master'
  }
}
