#!/usr/bin/env node
// Start-up benchmark: `ctl status --pidfile` against `pumactl -P … status` on the same real Puma
// cluster, interleaved, several runs each; prints medians and the ratio. Usage: npm run bench [-- RUNS]
// BENCH_EXTRA_PROCESSES=400 adds that many idle processes, as on a busy server.
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.argv[2] ?? 30)

const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const {port} = server.address()
    server.close(() => resolve(port))
  })
})
const dir = mkdtempSync(join(tmpdir(), 'ctl-bench-'))
mkdirSync(join(dir, 'log'))
writeFileSync(join(dir, 'config.ru'), "run ->(env) { [200, {}, ['ok']] }\n")
writeFileSync(
  join(dir, 'puma.rb'),
  `workers 2\nbind 'tcp://127.0.0.1:${port}'\nstdout_redirect 'log/puma.log', 'log/puma.log', true\npidfile 'puma.pid'\n`,
)
const puma = spawn('puma', ['-C', 'puma.rb'], {cwd: dir, detached: true, stdio: 'ignore'})
const extra = Array.from({length: Number(process.env.BENCH_EXTRA_PROCESSES ?? 0)}, () =>
  spawn('sleep', ['600'], {stdio: 'ignore'}),
)

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function time(command, args, env) {
  const started = process.hrtime.bigint()
  const result = spawnSync(command, args, {cwd: dir, stdio: 'ignore', env: {...process.env, ...env}})
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`)
  return Number(process.hrtime.bigint() - started) / 1e6
}

try {
  const deadline = Date.now() + 20_000
  while (
    (readFileSync(join(dir, 'log', 'puma.log'), {encoding: 'utf8', flag: 'a+'}).match(/booted/g) ?? []).length < 2
  ) {
    if (Date.now() > deadline) throw new Error('Puma did not boot')
    // eslint-disable-next-line no-await-in-loop -- polling: each check must wait for the previous one
    await sleep(50)
  }

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
      const ms = time(command, args, env)
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
  process.kill(puma.pid, 'SIGKILL')
  for (const child of extra) child.kill('SIGKILL')
  rmSync(dir, {recursive: true, force: true})
}
