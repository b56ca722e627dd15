#!/usr/bin/env node
// npm run demo: a hot restart and a phased restart of a real Puma cluster, each under HTTP load.
//
// Starts examples/app (Debian's Puma, 3 workers, no preload) on 127.0.0.1 and a free port, with its
// log, pidfile and state file in a temporary folder. For each restart it drives load with
// autocannon for WINDOW_S seconds (CONNECTIONS keep-alive connections), runs `ctl <restart> --json`
// RESTART_AT_S seconds in, and reports what the clients saw: requests, failures, availability,
// latency, and throughput before, during and after the restart (during = from ctl's signal until
// ctl saw every worker booted: its durationMs).
//
// Everything it starts is stopped by PID (the Puma master, every worker it forked, ctl, the load
// generators), also on failure and Ctrl-C, and the temporary folder is removed.
//
// Settings (environment): DEMO_WINDOW_S (8), DEMO_RESTART_AT_S (2), DEMO_CONNECTIONS (10),
// APP_BOOT_SECONDS (1: how long each worker takes to load the app, like a small Rails app; 0 for
// the bare Rack app).
import {spawn} from 'node:child_process'
import {closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'

import autocannon from 'autocannon'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const appDir = join(root, 'examples', 'app')
const ctlBin = join(root, 'bin', 'run.js')

const WORKERS = 3
const WINDOW_S = Number(process.env.DEMO_WINDOW_S ?? 8)
const RESTART_AT_S = Number(process.env.DEMO_RESTART_AT_S ?? 2)
const CONNECTIONS = Number(process.env.DEMO_CONNECTIONS ?? 10)
const APP_BOOT_SECONDS = process.env.APP_BOOT_SECONDS ?? '1'
const REQUEST_TIMEOUT_S = 5

const SCENARIOS = [
  {name: 'hot restart', command: 'restart', signal: 'SIGUSR2'},
  {name: 'phased restart', command: 'phased-restart', signal: 'SIGUSR1'},
]

// ---------------------------------------------------------------------------------------------
// What this script owns, and how it lets go of it.

const owned = new Map() // pid → start time (field 22 of /proc/PID/stat): never kill a reused PID
const cannons = new Set() // running autocannon instances
const ctlChildren = new Set() // running ctl processes
let tempDir
let master // the Puma master's ChildProcess
let cleaningUp

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

/** Still the very process we started (same PID and start time), and not a zombie. */
function stillOurs(pid) {
  const stat = procStat(pid)
  return Boolean(stat && stat.start === owned.get(pid) && stat.state !== 'Z')
}

/** Adopts the master's current children (its workers): they are ours to stop. */
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

function killOwned(pid, signal) {
  if (!stillOurs(pid)) return false
  try {
    process.kill(pid, signal)
    return true
  } catch {
    return false
  }
}

/** Graceful: stops the load and ctl, SIGTERMs the master, then SIGKILLs whatever of ours is left. */
async function cleanup() {
  cleaningUp ??= (async () => {
    for (const cannon of cannons) cannon.stop()
    for (const child of ctlChildren) if (child.exitCode === null) child.kill('SIGINT') // ctl: stop waiting, send nothing
    if (master?.pid) {
      adoptWorkers()
      killOwned(master.pid, 'SIGTERM')
      const deadline = Date.now() + 5000
      while (Date.now() < deadline && [...owned.keys()].some(stillOurs)) await sleep(50)
    }
    cleanupNow()
  })()
  return cleaningUp
}

/** Synchronous last resort (also on process exit): SIGKILL by PID, remove the temporary folder. */
function cleanupNow() {
  for (const child of ctlChildren) if (child.exitCode === null) child.kill('SIGKILL')
  if (master?.pid) adoptWorkers()
  for (const pid of owned.keys()) killOwned(pid, 'SIGKILL')
  if (tempDir) rmSync(tempDir, {recursive: true, force: true})
}

process.on('exit', cleanupNow)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping Puma (master ${master?.pid ?? '-'} and its workers) and the load…`)
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

const readOrEmpty = (path) => {
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
    env: {...process.env, PORT: String(port), PUMA_RUN_DIR: tempDir, APP_BOOT_SECONDS},
    detached: true, // its own process group: a Ctrl-C reaches this script, which stops Puma by PID
    stdio: ['ignore', out, out],
  })
  closeSync(out)
  await new Promise((resolve, reject) => {
    master.once('spawn', resolve)
    master.once('error', reject)
  })
  own(master.pid)
  const deadline = Date.now() + 30_000
  for (;;) {
    const log = readOrEmpty(logPath)
    if ((log.match(/booted in/g) ?? []).length >= WORKERS) break
    if (master.exitCode !== null || Date.now() > deadline) {
      throw new Error(`Puma did not boot ${WORKERS} workers:\n${readOrEmpty(bootOutput)}${log}`)
    }
    await sleep(50)
  }
  adoptWorkers()
  const url = `http://127.0.0.1:${port}/`
  const answer = await fetch(url)
  if (answer.status !== 200) throw new Error(`the app answered ${answer.status}`)
  await answer.arrayBuffer()
  return {port, url, logPath, pidfile: join(tempDir, 'puma.pid')}
}

// ---------------------------------------------------------------------------------------------
// ctl and the load

function runCtl(args) {
  const child = spawn(process.execPath, [ctlBin, ...args], {cwd: root, stdio: ['ignore', 'pipe', 'pipe']})
  ctlChildren.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      ctlChildren.delete(child)
      const exitedAt = performance.now()
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
  const successes = [] // response times (completion), 2xx
  const failures = [] // errors, timeouts, non-2xx
  let started
  const cannon = autocannon({
    url: puma.url,
    connections: CONNECTIONS,
    duration: WINDOW_S,
    timeout: REQUEST_TIMEOUT_S,
  })
  cannons.add(cannon)
  started = performance.now()
  const finished = new Promise((resolve, reject) => {
    cannon.once('done', resolve)
    cannon.once('error', reject)
  })
  cannon.on('response', (_client, statusCode) => {
    const at = performance.now() - started
    ;(statusCode >= 200 && statusCode < 300 ? successes : failures).push(at)
  })
  cannon.on('reqError', () => failures.push(performance.now() - started))

  // Keep an eye on the master's children during the window, so new workers are known at once.
  const watcher = setInterval(adoptWorkers, 250)
  await sleep(RESTART_AT_S * 1000)
  const invokedAt = performance.now() - started
  const ctl = await runCtl([scenario.command, '--pidfile', puma.pidfile, '--json', '--timeout', '60'])
  const result = await finished
  clearInterval(watcher)
  cannons.delete(cannon)
  if (ctl.code !== 0 || !ctl.json) {
    throw new Error(`ctl ${scenario.command} exited ${ctl.code}:\n${ctl.stdout}${ctl.stderr}\n--- Puma's log ---\n${readOrEmpty(puma.logPath)}`)
  }
  const ctlExit = ctl.exitedAt - started
  // ctl's durationMs runs from just before its signal until it saw the last worker boot.
  const during = {from: ctlExit - ctl.json.durationMs, to: ctlExit}
  return {scenario, result, successes, failures, invokedAt, during, ctl: ctl.json}
}

// ---------------------------------------------------------------------------------------------
// Report

const rate = (times, from, to) => (to > from ? (times.filter((t) => t >= from && t < to).length * 1000) / (to - from) : NaN)

function summarize(window) {
  const {result, successes, failures, during} = window
  const end = WINDOW_S * 1000
  const errors = result.errors // connection errors, including timeouts
  const failed = errors + result.non2xx
  const total = result.requests.total + errors // completed responses + requests that got none
  const perSecond = Array.from({length: Math.ceil(WINDOW_S)}, (_, s) => ({
    ok: successes.filter((t) => t >= s * 1000 && t < (s + 1) * 1000).length,
    failed: failures.filter((t) => t >= s * 1000 && t < (s + 1) * 1000).length,
  }))
  return {
    total,
    failed,
    errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    availability: total > 0 ? (100 * (total - failed)) / total : NaN,
    latency: result.latency, // 2xx only (autocannon's)
    before: rate(successes, 0, during.from),
    during: rate(successes, during.from, during.to),
    after: rate(successes, during.to, end),
    duringFailures: failures.filter((t) => t >= during.from && t < during.to).length,
    perSecond,
  }
}

const fixed = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-')
const ms = (n) => `${fixed(n / 1000, 2)} s`

function printWindow(window, stats) {
  const {scenario, ctl, during, invokedAt} = window
  console.log(`\n== ${scenario.name}: ctl ${scenario.command} (${scenario.signal}) at ${ms(invokedAt)} of a ${WINDOW_S} s load, ${CONNECTIONS} connections ==`)
  console.log(`ctl: ${ctl.summary} (durationMs ${ctl.durationMs}; signal at ~${ms(during.from)}, done at ${ms(during.to)})`)
  for (const worker of ctl.workers ?? []) console.log(`     worker ${worker.index}: pid ${worker.oldPid} → ${worker.newPid}`)
  console.log(
    `requests ${stats.total}, failed ${stats.failed} (errors ${stats.errors}, of which timeouts ${stats.timeouts}; non-2xx ${stats.non2xx}), availability ${fixed(stats.availability, 3)} %`,
  )
  console.log(`latency (2xx) p50 ${stats.latency.p50} ms, p90 ${stats.latency.p90} ms, p99 ${stats.latency.p99} ms, max ${stats.latency.max} ms`)
  console.log(`throughput (2xx req/s): before ${fixed(stats.before)}, during ${fixed(stats.during)}, after ${fixed(stats.after)}`)
  const marks = stats.perSecond.map((bucket, s) => {
    const overlaps = s * 1000 < during.to && (s + 1) * 1000 > during.from
    return `${fixed(bucket.ok).padStart(4)}${bucket.failed ? `(${bucket.failed} failed)` : ''}${overlaps ? '*' : ' '}`
  })
  console.log(`per second:  ${marks.join(' ')}   (* = restart under way)`)
}

function printTable(rows) {
  const header = ['restart', 'ctl took', 'requests', 'failed', 'availability', 'p50 ms', 'p90 ms', 'p99 ms', 'req/s before', 'during', 'after', 'during/before']
  const lines = rows.map(({window, stats}) => [
    window.scenario.name,
    ms(window.ctl.durationMs),
    String(stats.total),
    String(stats.failed),
    `${fixed(stats.availability, 2)} %`,
    String(stats.latency.p50),
    String(stats.latency.p90),
    String(stats.latency.p99),
    fixed(stats.before),
    fixed(stats.during),
    fixed(stats.after),
    `${fixed((100 * stats.during) / stats.before)} %`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i].length)))
  const row = (cells) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`
  console.log(`\n${row(header)}\n|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`)
  for (const line of lines) console.log(row(line))
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const t0 = performance.now()
  const puma = await startPuma()
  console.log(
    `Puma ${WORKERS} workers on ${puma.url} (master ${master.pid}, workers ${adoptWorkers().join(', ')}), app boot ${APP_BOOT_SECONDS} s per worker; folder ${tempDir}`,
  )
  // Warm-up: connections, Ruby's caches, the CPU governor.
  const warm = autocannon({url: puma.url, connections: CONNECTIONS, duration: 1})
  cannons.add(warm)
  await warm
  cannons.delete(warm)

  const rows = []
  for (const scenario of SCENARIOS) {
    const window = await loadWindow(puma, scenario)
    const stats = summarize(window)
    printWindow(window, stats)
    rows.push({window, stats})
    await sleep(500)
  }
  printTable(rows)
  const [hot, phased] = rows.map((r) => r.stats)
  console.log(
    `\nHot restart: ${fixed(hot.availability, 2)} % availability, yet throughput fell from ${fixed(hot.before)} to ${fixed(hot.during)} req/s while the master re-executed and all ${WORKERS} workers booted (requests waited in the listen backlog: p99 ${hot.latency.p99} ms).`,
  )
  console.log(
    `Phased restart: ${fixed(phased.availability, 2)} % availability, throughput ${fixed(phased.before)} → ${fixed(phased.during)} req/s during the restart (${fixed((100 * phased.during) / phased.before)} %): the other workers kept serving while each one was replaced.`,
  )
  await cleanup()
  console.log(`\nStopped Puma (master ${master.pid} and its workers) and removed ${tempDir}; ${fixed((performance.now() - t0) / 1000, 1)} s in all.`)
}

try {
  await main()
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : error}`)
  await cleanup()
  process.exitCode = 1
}
