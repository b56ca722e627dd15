import {TARGET_HELP} from '../cli/flags.js'
import {stopCommand} from './stop.js'

export default stopCommand('halt', {
  summary: 'Kill the Puma master at once (SIGQUIT), without draining requests, and wait until it has exited.',
  description: `Puma does not trap SIGQUIT: the master dies immediately (exit status 131) and in-flight requests are cut off; workers exit when they notice their master is gone. Use \`ctl stop\` to drain requests first.

Exit status: 0 when the master has exited, 6 when it is still running after --timeout, 3 when no master was found, 4 when not permitted.

${TARGET_HELP}`,
  examples: ['<%= config.bin %> halt --pidfile tmp/pids/puma.pid'],
})
