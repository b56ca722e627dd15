#!/usr/bin/env node
// Restart-wait benchmarks (figures in BENCHMARKS.md):
//  1. detection latency: from the last worker's boot line reaching the log to ctl exiting;
//  2. CPU ctl uses while it waits for a restart that does not progress (per 10 s);
//  3. start-up on a 1 GiB log against a small one: time to signal, and peak memory.
// A tiny Ruby stand-in plays the master (Puma's title, workers with worker titles, stdout to the
// log, and on USR1 new workers and the phased-restart line), so that this script writes the boot
// lines itself and knows to the microsecond when the last one landed. Usage: node bench/restart.js [RUNS]
import {execFileSync, spawn} from 'node:child_process'
import {appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const ctl = join(root, 'bin', 'run.js')
const runs = Number(process.argv[2] ?? 20)
const WORKERS = 3

// On USR1 the stand-in replaces its workers by real new children that run a thread named like
// Puma's server thread (ctl believes a boot line only for such a worker), and names their PIDs.
const MASTER = `
$stdout.sync = true
def spawn_workers
  r, w = IO.pipe
  pids = (1..${WORKERS}).map do |i|
    fork do
      r.close
      $0 = "puma: cluster worker #{i - 1}: #{Process.ppid} [bench]"
      Thread.new { Thread.current.name = "puma srv"; w.write("."); sleep }
      sleep
    end
  end
  w.close
  r.read(${WORKERS})
  pids
end
workers = spawn_workers
$0 = "puma 5.6.5 (tcp://127.0.0.1:9) [bench]"
phase = 0
trap("USR1") do
  phase += 1
  old = workers
  workers = spawn_workers
  old.each { |w| Process.kill("KILL", w) rescue nil; Process.wait(w) rescue nil }
  puts "[#{$$}] - Starting phased worker restart, phase: #{phase}"
  puts "bench: new workers #{workers.join(' ')}"
end
trap("TERM") { workers.each { |w| Process.kill("KILL", w) rescue nil }; exit! 0 }
sleep
`

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

function startMaster(logPath) {
  const out = openSync(logPath, 'a')
  const master = spawn('ruby', ['-e', MASTER], {stdio: ['ignore', out, out], detached: true})
  closeSync(out)
  return master
}

async function until(condition, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('bench: timed out waiting')
    // eslint-disable-next-line no-await-in-loop -- polling: each check must wait for the previous one
    await sleep(2)
  }
}

const workerTitled = (masterPid) => () =>
  execFileSync('ps', ['-eo', 'args'])
    .toString()
    .split('\n')
    .filter((line) => line.startsWith(`puma: cluster worker `) && line.includes(`: ${masterPid} `)).length === WORKERS

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

async function withMaster(logSize, body) {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-bench-restart-'))
  const logPath = join(dir, 'puma.log')
  appendFileSync(logPath, '')
  if (logSize > 0) truncateSync(logPath, logSize) // sparse: a 1 GiB log without writing 1 GiB
  const master = startMaster(logPath)
  try {
    await until(workerTitled(master.pid))
    return await body({master, logPath})
  } finally {
    process.kill(master.pid, 'SIGTERM')
    rmSync(dir, {recursive: true, force: true})
  }
}

function startCtl(args) {
  const child = spawn(process.execPath, [ctl, ...args], {stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout.on('data', (chunk) => {
    output += chunk
  })
  child.stderr.on('data', (chunk) => {
    output += chunk
  })
  const exited = new Promise((resolve) => {
    child.on('exit', (code) => resolve({code, at: process.hrtime.bigint(), output}))
  })
  return {child, exited}
}

// 1. Detection latency: one phased restart of `phase`, in ms from the last boot line to ctl's exit
async function detectionLatency({master, logPath}, phase) {
  const before = statSync(logPath).size
  const {exited} = startCtl(['phased-restart', '--pid', String(master.pid), '--timeout', '20', '--quiet'])
  const newWorkers = () => /bench: new workers ([\d ]+)\n/.exec(readFileSync(logPath, 'utf8').slice(before))
  await until(() => newWorkers() !== null)
  const pids = newWorkers()[1].split(' ').map(Number)
  const bootLine = (index) =>
    `[${master.pid}] - Worker ${index} (PID: ${pids[index]}) booted in 0.01s, phase: ${phase}\n`
  for (let index = 0; index < WORKERS - 1; index++) appendFileSync(logPath, bootLine(index))
  await sleep(50) // let ctl read those first: only the last line's latency is measured
  const written = process.hrtime.bigint()
  appendFileSync(logPath, bootLine(WORKERS - 1))
  const {code, at, output} = await exited
  if (code !== 0) throw new Error(`ctl exited ${code}: ${output}`)
  return Number(at - written) / 1e6
}

const latencies = []
await withMaster(0, async (puma) => {
  for (let run = 0; run < runs; run++) {
    // eslint-disable-next-line no-await-in-loop -- one restart at a time: each run needs the previous phase done, and overlapping runs would skew the timings
    latencies.push(await detectionLatency(puma, run + 1))
  }
})

// 2. CPU while waiting 10 s for a restart that never progresses
const cpu = await withMaster(0, async ({master}) => {
  const {child, exited} = startCtl(['phased-restart', '--pid', String(master.pid), '--timeout', '40', '--quiet'])
  await sleep(3000) // past start-up, the signal, and the garbage collection that follows start-up
  // Clock ticks are 10 ms: measure 20 s and report per 10 s, so one tick is not a fifth of the figure.
  const from = cpuTicks(child.pid)
  await sleep(20_000)
  const to = cpuTicks(child.pid)
  child.kill('SIGINT')
  await exited
  return (to - from) / 100 / 2
})

// 3. Start-up on a small and on a 1 GiB log: time until the master sees USR1, and peak memory
async function startup(logSize) {
  return withMaster(logSize, async ({master, logPath}) => {
    const started = process.hrtime.bigint()
    const timed = spawn(
      '/usr/bin/time',
      ['-f', '%M', process.execPath, ctl, 'phased-restart', '--pid', String(master.pid), '--timeout', '1', '--quiet'],
      {stdio: ['ignore', 'ignore', 'pipe']},
    )
    let stderr = ''
    timed.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    await until(() =>
      execFileSync('tail', ['-c', '200', logPath]).toString().includes('Starting phased worker restart'),
    )
    const signalledMs = Number(process.hrtime.bigint() - started) / 1e6
    await new Promise((resolve) => {
      timed.on('exit', resolve)
    })
    const peakKiB = Number(stderr.trim().split('\n').at(-1))
    return {signalledMs, peakMiB: peakKiB / 1024}
  })
}

const small = []
const huge = []
for (let run = 0; run < 5; run++) {
  // eslint-disable-next-line no-await-in-loop -- one measurement at a time: concurrent runs would skew each other's timings and memory
  small.push(await startup(0))
  // eslint-disable-next-line no-await-in-loop -- as above: one measurement at a time
  huge.push(await startup(1024 ** 3))
}

console.log(`detection latency (last boot line written -> ctl exited), ${runs} runs, ${WORKERS} workers:`)
console.log(
  `  median ${median(latencies).toFixed(1)} ms, min ${Math.min(...latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
)
console.log(`CPU used by ctl per 10 s of waiting (measured over 20 s): ${cpu.toFixed(3)} s`)
for (const [name, samples] of [
  ['small log', small],
  ['1 GiB log', huge],
]) {
  console.log(
    `${name.padEnd(10)} start to signal: median ${median(samples.map((s) => s.signalledMs)).toFixed(0)} ms; peak memory: median ${median(samples.map((s) => s.peakMiB)).toFixed(1)} MiB`,
  )
}
