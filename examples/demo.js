#!/usr/bin/env node
import autocannon from 'autocannon'
// npm run demo: a hot restart and a phased restart of a real Puma cluster, each under HTTP load.
//
// Starts examples/app (Debian's Puma, 3 workers, no preload_app!) on 127.0.0.1 and a free port,
// with its log, pidfile and state file in a temporary folder. For each restart it drives load with
// autocannon (CONNECTIONS concurrent clients, one request per connection unless DEMO_KEEP_ALIVE=1),
// runs `ctl <restart> --json` RESTART_AT_S seconds in, keeps the load up until AFTER_S seconds after ctl has returned (at least WINDOW_S
// seconds in all), and reports what the clients saw: requests, failures, availability, latency,
// and throughput before, during and after the restart ("during" = from ctl's signal until ctl saw
// every worker booted: its durationMs).
//
// Everything it starts is stopped by PID (the Puma master, every worker it forked, ctl, the load),
// also on failure and on Ctrl-C, and the temporary folder is removed.
//
// Settings (environment): DEMO_WINDOW_S (8), DEMO_RESTART_AT_S (2), DEMO_AFTER_S (3),
// DEMO_CONNECTIONS (10), APP_BOOT_SECONDS (1: CPU seconds each worker spends loading the app, like
// a small Rails app; 0 for the bare Rack app), DEMO_KEEP_ALIVE=1 (keep connections open across
// requests instead of one request per connection), WORKER_SHUTDOWN_TIMEOUT (Puma's; 30, or 5 with
// DEMO_KEEP_ALIVE=1), DEMO_SHOW_LOG=1 (print Puma's log lines of each window with their times).
import {spawn} from 'node:child_process'
import {closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const appDir = join(root, 'examples', 'app')
const ctlBin = join(root, 'bin', 'run.js')

const WORKERS = 3 // as in examples/app/puma.rb
const WINDOW_S = Number(process.env.DEMO_WINDOW_S ?? 8)
const RESTART_AT_S = Number(process.env.DEMO_RESTART_AT_S ?? 2)
const AFTER_S = Number(process.env.DEMO_AFTER_S ?? 3)
const CONNECTIONS = Number(process.env.DEMO_CONNECTIONS ?? 10)
const KEEP_ALIVE = process.env.DEMO_KEEP_ALIVE === '1'
const APP_BOOT_SECONDS = process.env.APP_BOOT_SECONDS ?? '1'
const REQUEST_TIMEOUT_S = 10
const CTL_TIMEOUT_S = KEEP_ALIVE ? 60 : 30
// With keep-alive load, a Puma 5.6 worker told to stop can keep serving its connections until the
// master SIGKILLs it (BENCHMARKS.md, "Demo under load"): a shorter grace keeps the run short.
const WORKER_SHUTDOWN_TIMEOUT = process.env.WORKER_SHUTDOWN_TIMEOUT ?? (KEEP_ALIVE ? '5' : '30')
const SHOW_LOG = Boolean(process.env.DEMO_SHOW_LOG) // print Puma's log lines of each window, timed

const SCENARIOS = [
  {name: 'hot restart', command: 'restart', signal: 'SIGUSR2'},
  {name: 'phased restart', command: 'phased-restart', signal: 'SIGUSR1'},
]

// ---------------------------------------------------------------------------------------------
// What this script owns, and how it lets go of it.

const owned = new Map() // pid → start time (field 22 of /proc/PID/stat): never signal a reused PID
const cannons = new Set() // running autocannon instances
const ctlChildren = new Set() // running ctl processes
let tempDir
let master // the Puma master (a ChildProcess)
let cleaningUp
let interrupted = false

function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return {state: fields[0], ppid: Number(fields[1]), start: fields[19]}
  } catch {
    return undefined
  }
}

function own(pid) {
  const stat = procStat(pid)
  if (stat && !owned.has(pid)) owned.set(pid, stat.start)
}

/** Still the very process we started (same PID, same start time), and not a zombie. */
function stillOurs(pid) {
  const stat = procStat(pid)
  return Boolean(stat && stat.start === owned.get(pid) && stat.state !== 'Z')
}

/** The master's current children (its workers), which become ours to stop. */
function adoptWorkers() {
  if (!master?.pid || !stillOurs(master.pid)) return []
  const workers = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (procStat(pid)?.ppid === master.pid) {
      own(pid)
      workers.push(pid)
    }
  }

  return workers
}

function signalOwned(pid, signal) {
  if (!stillOurs(pid)) return false
  try {
    process.kill(pid, signal)
    return true
  } catch {
    return false
  }
}

/** Stops the load and ctl, SIGTERMs the master (Puma stops its workers), then SIGKILLs what is left. */
function cleanup() {
  cleaningUp ??= (async () => {
    for (const cannon of cannons) cannon.stop()
    for (const child of ctlChildren) child.kill('SIGINT') // ctl stops waiting and sends nothing more
    if (master?.pid) {
      adoptWorkers()
      signalOwned(master.pid, 'SIGTERM')
      const deadline = Date.now() + 5000
      // eslint-disable-next-line no-await-in-loop -- polling: each check must wait for the previous one
      while (Date.now() < deadline && [...owned.keys()].some((pid) => stillOurs(pid))) await sleep(50)
    }

    cleanupNow()
  })()
  return cleaningUp
}

/** The synchronous last resort (also run on exit): SIGKILL by PID, remove the temporary folder. */
function cleanupNow() {
  for (const child of ctlChildren) child.kill('SIGKILL')
  adoptWorkers()
  for (const pid of owned.keys()) signalOwned(pid, 'SIGKILL')
  if (tempDir) rmSync(tempDir, {recursive: true, force: true})
}

process.on('exit', cleanupNow)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    interrupted = true
    console.error(`\n${signal}: stopping the load and Puma (master ${master?.pid ?? '-'} and its workers)…`)
    // The main flow may still be awaiting load and timers: only an explicit exit ends the run now.
    // eslint-disable-next-line n/no-process-exit -- exit 130 (interrupted) once cleanup is done
    cleanup().finally(() => process.exit(130))
  })
}

// ---------------------------------------------------------------------------------------------
// Puma

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
  })
}

function readOrEmpty(path) {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

async function startPuma() {
  tempDir = mkdtempSync(join(tmpdir(), 'ctl-demo-'))
  const port = await freePort()
  const logPath = join(tempDir, 'puma.log')
  const bootOutput = join(tempDir, 'boot.out') // what Puma says before stdout_redirect takes over
  const out = openSync(bootOutput, 'a')
  master = spawn('puma', ['-C', join(appDir, 'puma.rb')], {
    cwd: appDir,
    env: {...process.env, PORT: String(port), PUMA_RUN_DIR: tempDir, APP_BOOT_SECONDS, WORKER_SHUTDOWN_TIMEOUT},
    detached: true, // its own process group: Ctrl-C reaches this script, which stops Puma by PID
    stdio: ['ignore', out, out],
  })
  closeSync(out)
  await new Promise((resolve, reject) => {
    master.once('spawn', resolve)
    master.once('error', (error) =>
      reject(error.code === 'ENOENT' ? new Error("no 'puma' on the PATH (Debian: apt-get install puma)") : error),
    )
  })
  own(master.pid)
  const deadline = Date.now() + 30_000
  for (;;) {
    const log = readOrEmpty(logPath)
    if ((log.match(/booted in/g) ?? []).length >= WORKERS) break
    if (master.exitCode !== null || Date.now() > deadline) {
      throw new Error(`Puma did not boot ${WORKERS} workers:\n${readOrEmpty(bootOutput)}${log}`)
    }

    // eslint-disable-next-line no-await-in-loop -- polling: each check must wait for the previous one
    await sleep(50)
  }

  adoptWorkers()
  const url = `http://127.0.0.1:${port}/`
  // eslint-disable-next-line n/no-unsupported-features/node-builtins -- fetch is on by default in Node 20 (no flag, no warning); the plugin counts it experimental until 21
  const answer = await fetch(url)
  await answer.arrayBuffer()
  if (answer.status !== 200) throw new Error(`the app answered ${answer.status}`)
  return {port, url, logPath, pidfile: join(tempDir, 'puma.pid')}
}

// ---------------------------------------------------------------------------------------------
// The load

/**
 * Makes an autocannon 9 connection behave like an HTTP/1.1 client (curl, a browser, a proxy) and
 * keeps its figures true. Out of the box autocannon (1) ignores `Connection: close`, which Puma
 * puts on the last response of a worker that is shutting down: it writes the next request on that
 * connection anyway, and the server's close then resets it (an ECONNRESET, counted as a failed
 * request) or ends it (the request is dropped and silently resent); (2) keeps that unanswered
 * request in its queue across the reconnect, so every later response on the connection is timed
 * from an older request (p50 read 15-80 ms instead of 5 ms after one restart); and (3) always sends
 * `Connection: keep-alive`. Here a response with `Connection: close` makes the next request go on a
 * new connection; a request the server closes the connection on without answering is reported
 * through `onUnanswered` (autocannon counts nothing); and unless `keepAlive`, each request asks for
 * `Connection: close`: one request per connection, as nginx's default proxying and siege's default
 * `connection = close` do.
 */
function httpClientManners(client, {keepAlive, onUnanswered, onNewConnection, onUnpatched}) {
  const internals = ['_connect', '_doRequest', '_destroyConnection', 'getRequestBuffer'].every(
    (name) => typeof client[name] === 'function',
  )
  if (
    !internals ||
    typeof client.pipelinedRequests?.clear !== 'function' ||
    typeof client.parser?.reinitialize !== 'function'
  ) {
    onUnpatched()
    return
  }

  let connected = false
  let closing = false // the last response said Connection: close
  let errored = false // autocannon has counted this connection's end as an error
  client.on('headers', ({headers}) => {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (headers[i].toLowerCase() === 'connection' && /\bclose\b/i.test(headers[i + 1])) closing = true
    }
  })
  client.on('connError', () => {
    errored = true
  })
  const connect = client._connect
  client._connect = function () {
    if (connected) {
      const unanswered = this.pipelinedRequests.size()
      if (unanswered > 0 && !errored) onUnanswered(unanswered)
      this.pipelinedRequests.clear()
      this.parser.reinitialize(this.parser.type)
    }

    connected = true
    closing = false
    errored = false
    onNewConnection()
    return connect.call(this)
  }

  const doRequest = client._doRequest
  client._doRequest = function (...args) {
    if (closing && !this.destroyed) {
      this._destroyConnection()
      return this._connect() // which sends the request on the new connection
    }

    return doRequest.apply(this, args)
  }

  if (!keepAlive) {
    const requestBuffer = client.getRequestBuffer
    let raw
    let rewritten
    client.getRequestBuffer = function () {
      const buffer = requestBuffer.call(this)
      if (buffer !== raw) {
        raw = buffer
        rewritten = Buffer.from(
          buffer.toString('latin1').replace(/\r\nConnection: keep-alive\r\n/i, '\r\nConnection: close\r\n'),
          'latin1',
        )
      }

      return rewritten
    }
  }
}

function noop() {}

function startLoad(url, durationS, manners) {
  const cannon = autocannon({
    url,
    connections: CONNECTIONS,
    duration: durationS,
    timeout: REQUEST_TIMEOUT_S,
    setupClient: (client) => httpClientManners(client, manners),
  })
  cannons.add(cannon)
  const done = new Promise((resolve, reject) => {
    cannon.once('done', resolve)
    cannon.once('error', reject)
  }).finally(() => cannons.delete(cannon))
  return {cannon, done}
}

// From the app's folder, as a deploy hook runs it: ctl trusts the pidfile (in no app's folder here)
// only when it runs from the app the master runs from.
function runCtl(args) {
  const child = spawn(process.execPath, [ctlBin, ...args], {cwd: appDir, stdio: ['ignore', 'pipe', 'pipe']})
  ctlChildren.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      const exitedAt = performance.now()
      ctlChildren.delete(child)
      let json
      try {
        json = JSON.parse(stdout)
      } catch {}

      resolve({code, json, stdout, stderr, exitedAt})
    })
  })
}

/** One load window with a restart RESTART_AT_S seconds in. Times are ms since the load started. */
async function loadWindow(puma, scenario) {
  const ok = [] // [completed at, response time] of each 2xx response
  const failures = [] // [failed at, kind]: a connection error's code, 'timeout', or 'non-2xx'
  const tally = {connections: 0, unpatched: false}
  const started = performance.now()
  const {cannon, done} = startLoad(puma.url, CTL_TIMEOUT_S + 60, {
    keepAlive: KEEP_ALIVE,
    onUnanswered(n) {
      for (let i = 0; i < n; i++) failures.push([performance.now() - started, 'closed unanswered'])
    },
    onNewConnection: () => tally.connections++,
    onUnpatched() {
      tally.unpatched = true
    },
  })
  cannon.on('response', (_client, statusCode, _bytes, responseTime) => {
    const at = performance.now() - started
    if (statusCode >= 200 && statusCode < 300) ok.push([at, responseTime])
    else failures.push([at, 'non-2xx'])
  })
  cannon.on('reqError', (error) => {
    const kind = error.message === 'request timed out' ? 'timeout' : (error.code ?? error.message)
    failures.push([performance.now() - started, kind])
  })
  const watcher = setInterval(adoptWorkers, 250) // know each new worker at once
  const logLines = []
  let logOffset = readOrEmpty(puma.logPath).length
  const logWatcher = setInterval(() => {
    const text = readOrEmpty(puma.logPath)
    const complete = text.lastIndexOf('\n') + 1
    if (complete <= logOffset) return
    const at = performance.now() - started
    for (const line of text.slice(logOffset, complete).split('\n').filter(Boolean)) logLines.push([at, line])
    logOffset = complete
  }, 20)

  await sleep(RESTART_AT_S * 1000)
  const invokedAt = performance.now() - started
  const ctl = await runCtl([scenario.command, '--pidfile', puma.pidfile, '--json', '--timeout', String(CTL_TIMEOUT_S)])
  const ctlExit = ctl.exitedAt - started
  // End on a whole second, at least AFTER_S seconds after ctl has returned.
  const end = Math.ceil(Math.max(WINDOW_S * 1000, ctlExit + AFTER_S * 1000) / 1000) * 1000
  await sleep(end - (performance.now() - started))
  cannon.stop()
  await done
  clearInterval(watcher)
  clearInterval(logWatcher)

  if (ctl.code !== 0 || !ctl.json) {
    throw new Error(
      `ctl ${scenario.command} exited ${ctl.code}:\n${ctl.stdout}${ctl.stderr}\n--- Puma's log ---\n${readOrEmpty(puma.logPath)}`,
    )
  }

  // ctl's durationMs runs from just before its signal until it saw the last worker boot.
  const during = {from: ctlExit - ctl.json.durationMs, to: ctlExit}
  return {
    logLines,
    scenario,
    ok: ok.filter(([at]) => at < end),
    failures: failures.filter(([at]) => at < end),
    tally,
    invokedAt,
    during,
    end,
    ctl: ctl.json,
  }
}

// ---------------------------------------------------------------------------------------------
// The report

function percentile(sorted, p) {
  return sorted.length > 0 ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : Number.NaN
}

/** How many of `times` fall in [from, to). */
function countWithin(times, from, to) {
  return times.filter((at) => at >= from && at < to).length
}

function summarize(window) {
  const {ok, failures, during, end} = window
  const okAt = ok.map(([at]) => at)
  const rate = (from, to) => (to - from >= 250 ? (countWithin(okAt, from, to) * 1000) / (to - from) : Number.NaN)
  const latencies = ok.map(([, time]) => time).sort((a, b) => a - b)
  const duringLatencies = ok
    .filter(([at]) => at >= during.from && at < during.to + 1000)
    .map(([, time]) => time)
    .sort((a, b) => a - b)
  const kinds = {}
  for (const [, kind] of failures) kinds[kind] = (kinds[kind] ?? 0) + 1
  const {timeout: timeouts = 0, 'non-2xx': non2xx = 0, 'closed unanswered': unanswered = 0, ...errorKinds} = kinds
  const errors = Object.values(errorKinds).reduce((a, b) => a + b, 0)
  const failed = failures.length
  const total = ok.length + failed
  return {
    total,
    failed,
    errors,
    errorKinds,
    timeouts,
    non2xx,
    unanswered,
    availability: total > 0 ? (100 * (total - failed)) / total : Number.NaN,
    latency: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies.at(-1),
    },
    duringMax: duringLatencies.at(-1),
    before: rate(0, during.from),
    during: rate(during.from, during.to),
    after: rate(during.to, end),
    perSecond: Array.from({length: Math.ceil(end / 1000)}, (_, s) => ({
      ok: countWithin(okAt, s * 1000, (s + 1) * 1000),
      failed: countWithin(
        failures.map(([at]) => at),
        s * 1000,
        (s + 1) * 1000,
      ),
      restarting: s * 1000 < during.to && (s + 1) * 1000 > during.from,
    })),
  }
}

const fixed = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-')
const secs = (ms) => `${fixed(ms / 1000, 2)} s`

/** Old workers that outlived their TERM: Puma's master logs "Stopping PID for phased upgrade..." again every 5 s. */
function slowStops(logLines) {
  const stops = new Map() // pid → [first TERM at, last "Stopping" at, count]
  for (const [at, line] of logLines) {
    const term = line.match(/TERM sent to (\d+)/)
    if (term) stops.set(term[1], [at, at, 0])
    const stopping = line.match(/Stopping (\d+) for phased upgrade/)
    const seen = stopping && stops.get(stopping[1])
    if (seen) stops.set(stopping[1], [seen[0], at, seen[2] + 1])
  }

  return [...stops]
    .filter(([, stop]) => stop[2] >= 1) // stop: [first TERM at, last "Stopping" at, count]
    .map(
      ([pid, [termAt, lastAt]]) =>
        `old worker ${pid} still ran ${secs(lastAt - termAt)} after its TERM (it kept serving its keep-alive connections; Puma's master SIGKILLs it once worker_shutdown_timeout, ${WORKER_SHUTDOWN_TIMEOUT} s here, has passed, at its next 5 s check)`,
    )
}

function printWindow(window, stats) {
  const {scenario, ctl, during, invokedAt, end, tally} = window
  console.log(
    `\n== ${scenario.name}: ctl ${scenario.command} (${scenario.signal}) at ${secs(invokedAt)} of ${secs(end)} of load, ${CONNECTIONS} connections ==`,
  )
  console.log(
    `ctl: ${ctl.summary} (durationMs ${ctl.durationMs}: signal at ~${secs(during.from)}, done at ${secs(during.to)})`,
  )
  console.log(`     ${(ctl.workers ?? []).map((w) => `worker ${w.index}: ${w.oldPid} → ${w.newPid}`).join(', ')}`)
  const kinds = Object.entries(stats.errorKinds)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ')
  console.log(
    `requests ${stats.total}, failed ${stats.failed} (connection errors ${stats.errors}${kinds ? ` [${kinds}]` : ''}, timeouts ${stats.timeouts}, non-2xx ${stats.non2xx}, closed unanswered ${stats.unanswered}), availability ${fixed(stats.availability, 3)} %`,
  )
  console.log(
    `latency (2xx): p50 ${fixed(stats.latency.p50, 1)} ms, p90 ${fixed(stats.latency.p90, 1)} ms, p99 ${fixed(stats.latency.p99, 1)} ms, max ${fixed(stats.latency.max)} ms (max of responses completed during the restart or 1 s after: ${fixed(stats.duringMax)} ms)`,
  )
  console.log(
    `throughput (2xx req/s): before ${fixed(stats.before)}, during ${fixed(stats.during)}, after ${fixed(stats.after)}`,
  )
  const cells = stats.perSecond.map((b) => `${b.ok}${b.failed ? `(${b.failed}✗)` : ''}${b.restarting ? '*' : ''}`)
  console.log(`per second: ${cells.join(' ')}   (* = restart under way, ✗ = failed)`)
  const notes = [
    `${tally.connections} connections opened (${KEEP_ALIVE ? 'keep-alive' : 'one request per connection'})`,
  ]
  if (tally.unpatched)
    notes.push(
      'autocannon internals not as expected: raw autocannon accounting (latencies may be inflated after reconnects)',
    )
  console.log(`load: ${notes.join('; ')}`)
  for (const note of slowStops(window.logLines)) console.log(`note: ${note}`)
  if (SHOW_LOG) for (const [at, line] of window.logLines) console.log(`  ${secs(at).padStart(7)}  ${line}`)
}

function printTable(rows) {
  const header = [
    'restart',
    'ctl durationMs',
    'requests',
    'failed',
    'availability',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'req/s before',
    'during',
    'after',
    'during/before',
  ]
  const lines = rows.map(({window, stats}) => [
    window.scenario.name,
    String(window.ctl.durationMs),
    String(stats.total),
    String(stats.failed),
    `${fixed(stats.availability, 2)} %`,
    fixed(stats.latency.p50, 1),
    fixed(stats.latency.p90, 1),
    fixed(stats.latency.p99, 1),
    fixed(stats.before),
    fixed(stats.during),
    fixed(stats.after),
    `${fixed((100 * stats.during) / stats.before)} %`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i].length)))
  const row = (cells) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`
  console.log(
    `\n${row(header)}\n|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
  )
  for (const line of lines) console.log(row(line))
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const t0 = performance.now()
  const puma = await startPuma()
  console.log(
    `Puma ${WORKERS} workers on ${puma.url}: master ${master.pid}, workers ${adoptWorkers().join(', ')}; app boot ${APP_BOOT_SECONDS} CPU s per worker; folder ${tempDir}`,
  )
  // Warm-up: the first seconds of load on fresh workers (and a fresh load generator) run slower.
  await startLoad(puma.url, 3, {keepAlive: KEEP_ALIVE, onUnanswered: noop, onNewConnection: noop, onUnpatched: noop})
    .done

  const rows = []
  for (const scenario of SCENARIOS) {
    // eslint-disable-next-line no-await-in-loop -- one restart at a time: each window measures its own restart under load
    const window = await loadWindow(puma, scenario)
    const stats = summarize(window)
    printWindow(window, stats)
    rows.push({window, stats})
    // eslint-disable-next-line no-await-in-loop -- a pause between the windows, in order
    await sleep(500)
  }

  printTable(rows)
  const [hot, phased] = rows.map((r) => r.stats)
  console.log(
    `\nHot restart: ${fixed(hot.availability, 2)} % availability, yet throughput fell from ${fixed(hot.before)} to ${fixed(hot.during)} req/s (${fixed((100 * hot.during) / hot.before)} %) while the master re-executed and all ${WORKERS} workers booted; requests waited in the listen backlog (up to ${fixed(hot.duringMax)} ms).`,
  )
  console.log(
    `Phased restart: ${fixed(phased.availability, 2)} % availability, throughput ${fixed(phased.before)} → ${fixed(phased.during)} req/s (${fixed((100 * phased.during) / phased.before)} %): the other workers kept serving while each was replaced (slowest response ${fixed(phased.duringMax)} ms).`,
  )
  await cleanup()
  console.log(
    `\nStopped Puma (master ${master.pid} and its workers) and removed ${tempDir}; ${fixed((performance.now() - t0) / 1000, 1)} s in all.`,
  )
}

try {
  await main()
} catch (error) {
  if (!interrupted) console.error(`demo failed: ${error instanceof Error ? error.message : error}`)
  await cleanup()
  process.exitCode = 1
}
