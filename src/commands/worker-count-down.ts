import {workerCountCommand} from './worker-count-up.js'

export default workerCountCommand('down', {
  summary: 'Remove one worker (SIGTTOU). Cluster mode only; Puma keeps at least one.',
  examples: [
    '<%= config.bin %> worker-count-down --pidfile tmp/pids/puma.pid',
    '<%= config.bin %> worker-count-down --tag myapp --json',
  ],
})
