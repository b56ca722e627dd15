import {TARGET_HELP} from '../base-command.js'
import Stop from './stop.js'

export default class Halt extends Stop {
  static summary = 'Kill the Puma master at once (SIGQUIT), without draining requests, and wait until it has exited.'
  static description = `Puma does not trap SIGQUIT: the master dies immediately (exit status 131) and in-flight requests are cut off; workers exit when they notice their master is gone. Use \`ctl stop\` to drain requests first.

Exit status: 0 when the master has exited, 6 when it is still running after --timeout, 3 when no master was found, 4 when not permitted.

${TARGET_HELP}`

  static examples = ['<%= config.bin %> halt --pidfile tmp/pids/puma.pid']

  protected readonly kind = 'halt'
}
