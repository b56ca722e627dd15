# Puma config for the puma-ctl demo app (examples/demo.js runs it; it also runs on its own:
#   cd examples/app && PORT=9292 puma -C puma.rb   then, from this folder:  ctl phased-restart).
#
# Cluster mode with 3 workers and no preload_app!, so that a phased restart (SIGUSR1) really
# replaces the workers one at a time while the others keep serving; a hot restart (SIGUSR2)
# stops every worker and re-executes the master.
require 'fileutils'

# Where the log, pidfile and state file go (the demo passes a temporary folder). The default,
# tmp/pids/ and log/ under this folder, is where ctl looks when run from here without flags.
run_dir = ENV['PUMA_RUN_DIR']
pid_dir = run_dir || File.join(__dir__, 'tmp', 'pids')
log_dir = run_dir || File.join(__dir__, 'log')
FileUtils.mkdir_p([pid_dir, log_dir])

workers 3
threads 5, 5 # Puma 5's default maximum on MRI (and Rails' classic RAILS_MAX_THREADS)
bind "tcp://127.0.0.1:#{Integer(ENV.fetch('PORT', '9292'))}"
rackup File.join(__dir__, 'config.ru')
tag 'ctl-demo'

# How long the master lets a stopping worker finish its requests before it sends SIGKILL
# (Puma's default: 30 s).
worker_shutdown_timeout Integer(ENV.fetch('WORKER_SHUTDOWN_TIMEOUT', '30'))

# ctl follows this log to know when every worker has booted in the new phase.
stdout_redirect File.join(log_dir, 'puma.log'), File.join(log_dir, 'puma.log'), true
pidfile File.join(pid_dir, 'puma.pid')
state_path File.join(pid_dir, 'puma.state')
