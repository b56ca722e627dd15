import {TARGET_HELP} from '../cli/flags.js'
import {restartCommand} from './phased-restart.js'

export default restartCommand('hot', {
  summary: 'Hot restart (SIGUSR2): the master re-executes itself, and ctl waits until Puma serves again.',
  description: `First proves the new release boots (the boot check): Puma's config and config.ru loaded in a throwaway process as the master would load them (its Ruby, environment, user and restart folder; nothing bound, forked or written). When that raises, nothing is sent and ctl exits 5 ("the running server was not touched"). --no-check skips it, --check-command CMD runs your own check instead, --check-timeout bounds it.

Then sends SIGUSR2: the master stops its workers and re-executes with the same PID (re-reading its config; the phase goes back to 0). ctl follows Puma's log until every worker has booted with a new PID (cluster) or the server listens again (single mode), and exits 0 only then. Exits 5 when a worker fails to boot (no worker serves then), 7 when the master dies (an app that fails to load in single or preload mode takes the server down), 6 on --timeout, 130 on Ctrl-C (143 on SIGTERM, 129 on SIGHUP).

The log is --log, or the file the master's stdout/stderr points to (Puma's stdout_redirect), or the journal of the master's systemd unit (--journal UNIT, or found on its own). Where none can be followed but Puma's control server is known (--state, --control-url), ctl polls /stats instead.

${TARGET_HELP}`,
  examples: ['<%= config.bin %> restart --pidfile tmp/pids/puma.pid', '<%= config.bin %> restart --timeout 120 --json'],
})
