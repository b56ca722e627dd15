#!/usr/bin/env node
// Start-up benchmark: `ctl status --pidfile` against `pumactl -P … status` on the same real Puma
// cluster, interleaved, several runs each; prints medians and the ratio. Usage: npm run bench [-- RUNS]
// BENCH_EXTRA_PROCESSES=400 adds that many idle processes, as on a busy server.
import {spawn, spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {median, startCluster, time} from './cluster.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.argv[2] ?? 30)

const {dir, stop} = await startCluster()
const extra = Array.from({length: Number(process.env.BENCH_EXTRA_PROCESSES ?? 0)}, () =>
  spawn('sleep', ['600'], {stdio: 'ignore'}),
)

try {
  const commands = {
    'ctl status --pidfile': [process.execPath, [join(root, 'bin', 'run.js'), 'status', '--pidfile', 'puma.pid']],
    'the same through oclif': [
      process.execPath,
      [join(root, 'bin', 'run.js'), 'status', '--pidfile', 'puma.pid'],
      {PUMA_CTL_FAST_PATH: '0'},
    ],
    'pumactl -P status': ['pumactl', ['-P', 'puma.pid', 'status']],
    'node -e 0 (floor)': [process.execPath, ['-e', '0']],
  }
  const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, []]))
  for (let i = 0; i < runs + 3; i++) {
    for (const [name, [command, args, env]] of Object.entries(commands)) {
      const ms = time(command, args, {cwd: dir, env})
      if (i >= 3) samples[name].push(ms) // the first runs warm the page cache
    }
  }

  console.log(
    `${runs} runs each, interleaved, on a 2-worker Puma ${spawnSync('puma', ['--version']).stdout.toString().trim()} cluster, ${readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length} processes\n`,
  )
  for (const [name, values] of Object.entries(samples)) {
    console.log(
      `${name.padEnd(24)} median ${median(values).toFixed(1).padStart(6)} ms   min ${Math.min(...values)
        .toFixed(1)
        .padStart(6)} ms`,
    )
  }

  const ratio = median(samples['ctl status --pidfile']) / median(samples['pumactl -P status'])
  console.log(`\nratio ctl / pumactl: ${ratio.toFixed(2)}`)
} finally {
  stop()
  for (const child of extra) child.kill('SIGKILL')
}
