#!/usr/bin/env ruby
# frozen_string_literal: true
#
# fake-puma.rb: a stand-in Puma master for puma-ctl's tests. Plain Ruby, standard library only.
#
# Why: Debian's real Puma 5.6.5 is installed and covers 5.6, but puma-ctl must also understand the
# log lines, process titles, pidfiles and state files of other versions, and failures that real
# Puma cannot be made to show on cue. This script reproduces them from docs/puma-facts.md
# (§1 log lines, §2 signals, §3 files, §6 titles) for one version family per run (--dialect).
#
# Like real Puma: one master and real forked workers with Puma's titles; a `[pid] ` prefix in
# cluster mode (the master's PID on master lines, the worker's PID on worker lines); the first
# banner goes to the original stdout and everything after `Use Ctrl-C to stop` to --log (a hot
# restart execs with the redirected stdout, so its banner lands in the log); USR1 phased restart
# (or the hot-restart fallback with --preload/--single), USR2 exec with the same PID, TERM/INT
# graceful stop with that version's lines and exit status, QUIT untrapped (Ruby dies, at_exit
# removes the pidfile), TTIN/TTOU, HUP reopens --log (stops when there is no --log, 3.6+).
# Workers exit when the master dies (`! Detected parent died, dying`).
#
# Not like real Puma: no HTTP is served (with --bind the socket is bound and inherited across a
# hot restart, but never accepted from); there is no control server (--control-url/--control-token
# are only written to the state file); booting is a sleep; a failed worker is respawned after
# --respawn-delay rather than in a tight loop; workers drain for --drain-seconds.
#
# Faults come from --behaviour-file, read whenever the app "loads" (each worker boot, or the master
# boot with --preload/--single), so a test can break and fix the app mid-run like code on disk:
#   ok                       boot normally
#   boot-fail                the app raises while loading: each dialect's worker failure lines
#                            (2.x: Ruby's dump on stderr; 4.3/5.2: only `Early termination of worker`;
#                            5.6: `! Unable to start worker` + first backtrace line; 6.0+: message and
#                            the whole backtrace). With --preload/--single the master dies instead,
#                            and preloaded workers ignore the file.
#   boot-hang                workers never finish booting; after --boot-timeout the master logs
#                            `! Terminating timed out worker ...` (none before 2.8) and respawns them
#   master-crash-on-restart  after a hot restart's exec the master logs `! Unable to load application`
#                            and exits 1, leaving the pidfile behind
#
# Timing knobs (real Puma in brackets): --boot-seconds app load time [the app's], --boot-timeout
# [worker_boot_timeout, 60], --respawn-delay after a crash [none], --drain-seconds of an old worker
# after TERM [its requests], --check-interval between repeated phased-upgrade lines [5].
#
# Usage: ruby fake-puma.rb --dialect 5.6 --workers 2 --log puma.log --pidfile puma.pid \
#          --state puma.state --tag app --bind tcp://127.0.0.1:9393 --behaviour-file behaviour
require 'optparse'
require 'rbconfig'
require 'socket'

SCRIPT = File.expand_path(__FILE__)
ARGS = ARGV.dup.freeze
DIALECTS = {
  '2.7' => ['2.7.1', 'Earl of Sandwich Partition'], '2.16' => ['2.16.0', 'Midwinter Nights Trance'],
  '4.3' => ['4.3.12', 'Mysterious Traveller'], '5.2' => ['5.2.2', 'Fettisdagsbulle'],
  '5.6' => ['5.6.5', "Birdie's Version"], '6.0' => ['6.0.0', 'Sunflower'], '8.0' => ['8.0.2', 'Into the Arena']
}.freeze

O = {dialect: '5.6', workers: 2, boot: 0.0, boot_timeout: 60.0, respawn: 0.3, drain: 0.0, check: 1.0}
OptionParser.new do |p|
  p.on('--dialect D', DIALECTS.keys) { |v| O[:dialect] = v }
  p.on('--workers N', Integer) { |v| O[:workers] = v }
  p.on('--single') { O[:single] = true }
  p.on('--preload') { O[:preload] = true }
  p.on('--log PATH') { |v| O[:log] = File.expand_path(v) }
  p.on('--pidfile PATH') { |v| O[:pidfile] = File.expand_path(v) }
  p.on('--state PATH') { |v| O[:state] = File.expand_path(v) }
  p.on('--tag NAME') { |v| O[:tag] = v }
  p.on('--bind URL', %r{\Atcp://127\.0\.0\.1:\d+\z}) { |v| O[:bind] = v }
  p.on('--control-url URL') { |v| O[:control_url] = v }
  p.on('--control-token TOKEN') { |v| O[:control_token] = v }
  p.on('--behaviour-file PATH') { |v| O[:behaviour] = File.expand_path(v) }
  p.on('--boot-seconds S', Float) { |v| O[:boot] = v }
  p.on('--boot-timeout S', Float) { |v| O[:boot_timeout] = v }
  p.on('--respawn-delay S', Float) { |v| O[:respawn] = v }
  p.on('--drain-seconds S', Float) { |v| O[:drain] = v }
  p.on('--check-interval S', Float) { |v| O[:check] = v }
end.parse!
VERSION, CODE_NAME = DIALECTS.fetch(O[:dialect])
CLUSTER = !O[:single] && O[:workers].positive?
MASTER = Process.pid
STDOUT.sync = STDERR.sync = true

def since?(version) = (VERSION.split('.').map(&:to_i) <=> version.split('.').map(&:to_i)) >= 0
def log(msg) = STDOUT.puts(CLUSTER ? "[#{$$}] #{msg}" : msg)
def secs(s) = s == s.to_i ? s.to_i.to_s : s.to_s
def behaviour = (O[:behaviour] && File.exist?(O[:behaviour]) ? File.read(O[:behaviour]).strip : 'ok')
TAG = O[:tag] || (since?('2.11.0') ? File.basename(Dir.getwd) : '')
BIND = O[:bind] || 'tcp://0.0.0.0:9292' # Puma's default bind; only --bind is really bound
def tagged(title) = TAG.empty? ? title : "#{title} [#{TAG}]"

# The "application": raising from code named config.ru gives real backtraces (config.ru:3:in `block in <main>').
def load_app!
  eval("\n\nproc { raise 'boom: simulated boot failure' }.call", TOPLEVEL_BINDING, 'config.ru', 1) # rubocop:disable Security/Eval
end

# App loading in the master (preload, single mode, or a crash injected after a hot restart).
def load_app_in_master!(force: false)
  return unless force || behaviour == 'boot-fail'
  load_app!
rescue RuntimeError => e
  log(since?('2.9.2') ? "! Unable to load application: #{e.class}: #{e.message}" : '! Unable to load application')
  raise # Ruby prints the backtrace to stderr and exits 1; no at_exit is registered yet, so the pidfile stays
end

def redirect_io
  return unless O[:log]
  STDOUT.reopen(O[:log], 'a')
  STDOUT.sync = true
  STDOUT.puts "=== puma startup: #{Time.now} ==="
end

# Written once per boot (and again after a hot restart, same PID); the pidfile goes in at_exit.
def write_state
  if O[:pidfile]
    File.write(O[:pidfile], since?('5.1.0') ? MASTER.to_s : "#{MASTER}\n")
    at_exit { File.delete(O[:pidfile]) if Process.pid == MASTER && File.exist?(O[:pidfile]) }
  end
  File.write(O[:state], state_text) if O[:state]
end

module Puma; class Configuration; def initialize(options) = @options = options; end; end # for 2.x's YAML tag

def state_text
  require 'yaml'
  url, token = O.values_at(:control_url, :control_token)
  if !since?('3.0.0') # cli.rb dumped the whole configuration: !ruby/object:Puma::Configuration, symbol keys
    options = {min_threads: 0, max_threads: 16, binds: [BIND], workers: CLUSTER ? O[:workers] : 0, mode: :http,
               pidfile: O[:pidfile], state: O[:state], control_url: url, control_auth_token: token, tag: TAG}
    YAML.dump({'pid' => MASTER, 'config' => Puma::Configuration.new(options.compact)})
  elsif !since?('5.6.0') # state_file.rb: YAML.dump, nil values as bare keys
    state = {'pid' => MASTER, 'control_url' => url, 'control_auth_token' => token}
    state['running_from'] = File.expand_path('.') if since?('5.0.0')
    YAML.dump(state)
  else # 5.6+: hand-written, only numbers and non-blank strings
    "---\npid: #{MASTER}\n" + (url ? "control_url: #{url}\n" : '') + (token ? "control_auth_token: #{token}\n" : '') +
      "running_from: \"#{File.expand_path('.')}\"\n"
  end
end

def banner
  engine = "ruby #{RUBY_VERSION}-p#{RUBY_PATCHLEVEL}"
  log "Puma starting in #{CLUSTER ? 'cluster' : 'single'} mode..."
  if since?('5.1.0')
    log(since?('6.5.0') ? "* Puma version: #{VERSION} (\"#{CODE_NAME}\")" : "* Puma version: #{VERSION} (#{engine}) (\"#{CODE_NAME}\")")
    log "* Ruby version: #{RUBY_DESCRIPTION}" if since?('6.5.0')
    log '*  Min threads: 0'
    log '*  Max threads: 5'
    log '*  Environment: development'
    log(CLUSTER ? "*   Master PID: #{MASTER}" : "*          PID: #{MASTER}")
  else
    log(since?('2.8.0') ? "* Version #{VERSION} (#{engine}), codename: #{CODE_NAME}" : "* Version #{VERSION}, codename: #{CODE_NAME}")
    log '* Min threads: 0, max threads: 16'
    log '* Environment: development'
  end
  if CLUSTER && since?('5.1.0')
    log "*      Workers: #{O[:workers]}"
    log "*     Restarts: (\u2714) hot (#{O[:preload] ? "\u2716" : "\u2714"}) phased#{since?('6.6.1') ? " (\u2716) refork" : ''}"
  elsif CLUSTER
    log "* Process workers: #{O[:workers]}"
    log '* Phased restart available' unless O[:preload]
  end
  log '* Preloading application' if CLUSTER && O[:preload]
  if O[:preload] || !CLUSTER
    sleep O[:boot]
    load_app_in_master!
  end
  if ENV['PUMA_INHERIT_0']
    log "* Inherited #{BIND}"
  else
    log(since?('5.0.0') ? "* Listening on #{BIND.sub('tcp://', 'http://')}" : "* Listening on #{BIND}")
  end
end

# --- boot ---------------------------------------------------------------------------------------
$0 = tagged("puma #{VERSION} (#{BIND})") if since?('2.8.0') # 2.0-2.7 leave the master's title alone
load_app_in_master!(force: true) if ENV['FAKE_PUMA_HOT_RESTARTED'] && behaviour == 'master-crash-on-restart'
SERVER = if (inherited = ENV['PUMA_INHERIT_0']) then TCPServer.for_fd(inherited.to_i)
         elsif O[:bind] then TCPServer.new('127.0.0.1', O[:bind][/\d+\z/].to_i)
         end
SIGNALS = []
WAKE_R, WAKE_W = IO.pipe
def on_signal(name) = Signal.trap(name) { SIGNALS << name; WAKE_W.write_nonblock('!', exception: false) }
%w[USR1 USR2 TERM INT HUP].each { |s| on_signal(s) } # the launcher's traps, set before the banner; handled once booted

banner
write_state unless CLUSTER # single.rb writes the state after loading the app; cluster after the banner
log 'Use Ctrl-C to stop'
if CLUSTER && O[:workers] == 1 && since?('5.3.0')
  log '! WARNING: Detected running cluster mode with 1 worker.'
  log '! Running Puma in cluster mode with a single worker is often a misconfiguration.'
  log '! Consider running Puma in single-mode (workers = 0) in order to reduce memory overhead.'
  log '! Set the `silence_single_worker_warning` option to silence this warning message.'
end
redirect_io
write_state if CLUSTER
%w[TTIN TTOU CHLD].each { |s| on_signal(s) } if CLUSTER # single mode leaves TTIN/TTOU untrapped (they suspend it)

def hot_restart(fallback)
  log '* phased-restart called but not available, restarting normally.' if fallback
  stop_workers if CLUSTER
  log '* Restarting...'
  ENV['FAKE_PUMA_HOT_RESTARTED'] = '1'
  ENV['PUMA_INHERIT_0'] = "#{SERVER.fileno}:#{BIND}" if SERVER
  exec(RbConfig.ruby, SCRIPT, *ARGS, SERVER ? {SERVER.fileno => SERVER.fileno} : {})
end

def stop(signal)
  if !CLUSTER
    log '- Gracefully stopping, waiting for requests to finish'
  elsif signal == 'TERM' && since?('5.2.0')
    log "=== puma shutdown: #{Time.now} ==="
    log '- Goodbye!'
  end
  stop_workers if CLUSTER
  if signal != 'TERM' || !since?('3.10.0') # TERM said nothing more from 3.10 to 5.1 (and from 5.2 it said it first)
    log "=== puma shutdown: #{Time.now} ===" if since?('2.9.2')
    log '- Goodbye!'
  end
  raise SignalException, 'TERM' if signal == 'TERM' && since?('3.10.0') # exit status 143, after at_exit
  exit 0
end

def reopen_or_stop
  return stop('INT') unless O[:log] || !since?('3.6.0')
  redirect_io
  @workers&.each { |w| Process.kill('HUP', w.pid) rescue nil }
end

unless CLUSTER
  loop do
    IO.select([WAKE_R])
    WAKE_R.read_nonblock(64, exception: false)
    while (sig = SIGNALS.shift)
      case sig
      when 'USR1' then hot_restart(true)
      when 'USR2' then hot_restart(false)
      when 'HUP' then reopen_or_stop
      else stop(sig)
      end
    end
  end
end

# --- cluster ------------------------------------------------------------------------------------
Worker = Struct.new(:index, :pid, :phase, :started_at, :booted, :term_sent, :killed, :last_stop_log)
@workers = []
@wanted = O[:workers]
@phase = 0
@respawn_at = Time.now
BOOT_R, BOOT_W = IO.pipe   # workers tell the master they booted: "b<pid>:<index>"
CHECK_R, CHECK_W = IO.pipe # only the master holds CHECK_W; EOF tells workers the master died
BOOT_W.sync = true

def worker_title(index)
  return "puma: cluster worker: #{MASTER}" unless since?('2.8.0')
  title = "puma: cluster worker #{index}: #{MASTER}"
  since?('2.11.0') ? tagged(title) : title
end

def run_worker(w)
  $0 = worker_title(w.index)
  [CHECK_W, BOOT_R, WAKE_R, WAKE_W].each(&:close)
  %w[INT USR1 USR2 TTIN TTOU].each { |s| Signal.trap(s, 'IGNORE') }
  Signal.trap('CHLD', 'DEFAULT')
  Signal.trap('HUP') { redirect_io }
  Signal.trap('TERM') { log 'Early termination of worker'; exit! 0 } # the master's trap, until the worker has booted
  Thread.new { IO.select([CHECK_R]); log '! Detected parent died, dying'; exit! 1 }
  boot_app_in_worker unless O[:preload] # a preloaded app is already in memory
  Signal.trap('TERM') { sleep O[:drain]; exit! 0 }
  BOOT_W.puts "b#{$$}:#{w.index}"
  sleep
end

def boot_app_in_worker
  sleep O[:boot]
  case behaviour
  when 'boot-hang' then sleep
  when 'boot-fail'
    begin
      load_app!
    rescue RuntimeError => e
      raise unless since?('4.2.0') # 2.x-4.1: Ruby's own dump on the worker's stderr, no log line
      if since?('6.0.0')
        log '! Unable to start worker'
        log e.message
        log e.backtrace.join("\n    ") # one log call: the continuation lines get no prefix
      elsif since?('5.3.2')
        log '! Unable to start worker'
        log e.backtrace[0]
      end
      log 'Early termination of worker' # 4.2+: the master answers a dying worker with TERM
      exit! 0
    end
  end
end

def spawn_workers
  return if Time.now < @respawn_at || @stopping
  ((0...@wanted).to_a - @workers.map(&:index)).each do |index|
    w = Worker.new(index, nil, @phase, Time.now, false, false, false)
    w.pid = fork { run_worker(w) }
    @workers << w
  end
end

def reap
  while (pid = Process.wait(-1, Process::WNOHANG))
    w = @workers.find { |x| x.pid == pid } or next
    @workers.delete(w)
    @respawn_at = Time.now + O[:respawn] unless w.term_sent # crashed or timed out: don't burn the CPU
  end
rescue Errno::ECHILD
  nil
end

def term(w, sig = 'TERM')
  w.term_sent = true
  Process.kill(sig, w.pid)
rescue Errno::ESRCH
  nil
end

def stop_workers
  @stopping = true
  log '- Gracefully shutting down workers...'
  @workers.each { |w| term(w) }
  deadline = Time.now + 30
  until (reap; @workers.empty?)
    @workers.each { |w| term(w, 'KILL') } if Time.now > deadline
    sleep 0.05
  end
end

def boot_line(w)
  uptime = (Time.now - w.started_at).round(2)
  if !since?('2.8.0') then "- Worker #{w.pid} booted, phase: #{w.phase}"
  elsif !since?('5.1.0') then "- Worker #{w.index} (pid: #{w.pid}) booted, phase: #{w.phase}"
  elsif !since?('5.3.0') then "- Worker #{w.index} (PID: #{w.pid}) booted, phase: #{w.phase}"
  else "- Worker #{w.index} (PID: #{w.pid}) booted in #{uptime}s, phase: #{w.phase}"
  end
end

def timeout_workers
  return unless since?('2.8.0') # worker_timeout arrived in 2.8.0
  @workers.each do |w|
    next if w.booted || w.term_sent || w.killed || Time.now - w.started_at < O[:boot_timeout]
    details = since?('6.4.1') ? "Worker #{w.index} failed" : 'worker failed'
    log(since?('5.3.0') ? "! Terminating timed out worker (#{details} to boot within #{secs(O[:boot_timeout])} seconds): #{w.pid}" :
                          "! Terminating timed out worker: #{w.pid}")
    w.killed = true # not term_sent: it is respawned after the delay, like a crashed one
    Process.kill('KILL', w.pid)
  end
end

def cull_workers # TTOU: the youngest go first
  alive = @workers.reject(&:term_sent)
  return if alive.size <= @wanted
  alive.sort_by(&:started_at).last(alive.size - @wanted).each do |w|
    log "- Worker #{w.index} (#{since?('5.1.0') ? 'PID' : 'pid'}: #{w.pid}) terminating" if since?('3.7.0')
    term(w)
  end
end

def phase_out_old_worker # one at a time, in index order, once every worker has booted
  return if @workers.size < @wanted || !@workers.all?(&:booted)
  w = @workers.sort_by(&:index).find { |x| x.phase != @phase } or return
  repeat = w.term_sent && Time.now - w.last_stop_log >= O[:check] # still draining at the next check
  return if w.term_sent && !repeat
  log "- Stopping #{w.pid} for phased upgrade..." if !w.term_sent || since?('5.0.0')
  log "- TERM sent to #{w.pid}..." if since?('2.6.0') && (!w.term_sent || !since?('4.2.0'))
  w.last_stop_log = Time.now
  term(w) unless w.term_sent
end

spawn_workers
loop do
  while (sig = SIGNALS.shift)
    case sig
    when 'USR1'
      hot_restart(true) if O[:preload]
      @phase += 1
      log "- Starting phased worker restart, phase: #{@phase}"
      log "+ Changing to #{Dir.pwd}" if since?('3.2.0') # the fake's code does not move
    when 'USR2' then hot_restart(false)
    when 'TERM', 'INT' then stop(sig)
    when 'HUP' then reopen_or_stop
    when 'TTIN' then @wanted += 1
    when 'TTOU' then @wanted -= 1 if @wanted > 1
    end
  end
  reap
  timeout_workers
  cull_workers
  spawn_workers
  phase_out_old_worker
  next unless IO.select([WAKE_R, BOOT_R], nil, nil, 0.1)
  WAKE_R.read_nonblock(64, exception: false)
  while (msg = BOOT_R.read_nonblock(64, exception: false)).is_a?(String)
    msg.scan(/b(\d+):(\d+)/) do |pid, _index|
      w = @workers.find { |x| x.pid == pid.to_i }
      next log("! Out-of-sync worker list, no #{pid} worker") unless w
      w.booted = true
      log boot_line(w)
    end
  end
end
