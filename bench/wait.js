#!/usr/bin/env node
// `ctl wait --since` on a restart that has already finished (figures in BENCHMARKS.md): the time to
// its verdict, against `ctl status` on the same master, interleaved. A fleet tool that sends every
// host's restart with --no-wait and then waits on each pays this once per host after the restart
// itself. Usage: node bench/wait.js [RUNS]
import {spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {median, startCluster, time} from './cluster.js'

const ctl = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'run.js')
const runs = Number(process.argv[2] ?? 20)
const {dir, stop} = await startCluster()

try {
  const sent = spawnSync(process.execPath, [ctl, 'phased-restart', '--pidfile', 'puma.pid', '--no-wait', '--json'], {
    cwd: dir,
  })
  const {resume} = JSON.parse(sent.stdout.toString())
  if (!resume) throw new Error(`no resume token: ${sent.stdout}`)
  // The restart finishes on its own; the first wait follows it to the end, the rest find it done.
  time(process.execPath, [ctl, 'wait', '--pidfile', 'puma.pid', '--since', resume], {cwd: dir})
  const commands = {
    'ctl wait --since (finished restart)': [ctl, 'wait', '--pidfile', 'puma.pid', '--since', resume],
    'ctl status --pidfile': [ctl, 'status', '--pidfile', 'puma.pid'],
  }
  const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, []]))
  for (let i = 0; i < runs; i++)
    for (const [name, args] of Object.entries(commands)) samples[name].push(time(process.execPath, args, {cwd: dir}))
  console.log(`${runs} runs each, interleaved, on a 2-worker Puma cluster`)
  for (const [name, values] of Object.entries(samples))
    console.log(
      `${name.padEnd(36)} median ${median(values).toFixed(1).padStart(6)} ms   min ${Math.min(...values)
        .toFixed(1)
        .padStart(6)} ms`,
    )
} finally {
  stop()
}
