import {TARGET_HELP} from '../base-command.js'
import WorkerCountUp from './worker-count-up.js'

export default class WorkerCountDown extends WorkerCountUp {
  static summary = 'Remove one worker (SIGTTOU). Cluster mode only; Puma keeps at least one.'
  static description = `In single mode Puma does not trap SIGTTOU and the signal would suspend it, so ctl refuses (exit 2).

${TARGET_HELP}`

  static examples = ['<%= config.bin %> worker-count-down --pidfile tmp/pids/puma.pid', '<%= config.bin %> worker-count-down --tag myapp --json']

  protected readonly direction = 'down'
}
