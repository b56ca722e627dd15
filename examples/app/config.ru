# A small Rack app for the puma-ctl demo: each request does a little work, like a real app would
# (a few milliseconds of waiting on "the database", then a small page built from a string).
BOOTED_AT = Time.now

run lambda { |env|
  sleep 0.005 # ~5 ms of I/O
  body = +"<p>hello from worker #{Process.pid}, booted #{(Time.now - BOOTED_AT).round(1)} s ago</p>\n"
  20.times { |i| body << "<li>item #{i}: #{(i * 7919) % 101}</li>\n" }
  [200, {'Content-Type' => 'text/html', 'Content-Length' => body.bytesize.to_s}, [body]]
}
