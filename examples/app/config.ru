# A small Rack app for the puma-ctl demo (examples/demo.js).
#
# Loading it takes APP_BOOT_SECONDS of CPU time (default 1), like requiring and compiling a small
# Rails app's code: Puma loads it in every worker (no preload_app!), so that is how long each
# worker takes to boot. Each request then does a little work: ~5 ms of waiting on "the database"
# and a small page built from a string.
boot_cpu = Float(ENV.fetch('APP_BOOT_SECONDS', '1'))
cpu = -> { Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) }
booting_until = cpu.call + boot_cpu
compiled = []
while cpu.call < booting_until
  compiled << (1..200).map { |i| "def m#{i}; #{i}; end" }.join("\n").hash
  compiled.clear if compiled.size > 1000
end
BOOTED_AT = Time.now

run lambda { |env|
  sleep 0.005 # ~5 ms of I/O
  body = +"<p>hello from worker #{Process.pid}, booted #{(Time.now - BOOTED_AT).round(1)} s ago</p>\n<ul>\n"
  20.times { |i| body << "<li>item #{i}: #{(i * 7919) % 101}</li>\n" }
  body << "</ul>\n"
  [200, {'Content-Type' => 'text/html', 'Content-Length' => body.bytesize.to_s}, [body]]
}
