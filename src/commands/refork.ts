import {TARGET_HELP} from '../cli/flags.js'
import {restartCommand} from './phased-restart.js'

export default restartCommand('refork', {
  summary:
    "Refork (SIGURG, or the control server's /refork): replace workers 1.. by forks of worker 0, and wait until they have booted. Needs fork_worker.",
  description: `With fork_worker (Puma 5+), workers 1.. are replaced by forks of worker 0, sharing its warmed-up memory; worker 0 keeps running. ctl follows Puma's log as for a phased restart and exits 0 once every reforked worker has booted. Exits 5 when a worker fails to boot, 6 when --timeout passes, 7 when the master dies, 130 on Ctrl-C (143 on SIGTERM, 129 on SIGHUP).

Before signalling, ctl refuses (exit 2) a Puma that cannot refork: single mode, Puma before 5.0, a last banner that says "(✖) refork" (6.6.1+ without fork_worker), or workers that are all the master's own children (with fork_worker, workers 1.. are forks of worker 0). Where nothing tells (a control URL only), Puma ignores SIGURG without fork_worker, and ctl times out saying so (through the control server, /refork answers 404 at once: exit 2).

${TARGET_HELP}`,
  examples: [
    '<%= config.bin %> refork --pidfile tmp/pids/puma.pid',
    '<%= config.bin %> refork --timeout 120 --json',
    '<%= config.bin %> refork --via control --state tmp/pids/puma.state',
  ],
})
