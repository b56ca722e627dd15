// A real Puma cluster for the benchmarks (Debian's puma on the PATH): 2 workers on a free loopback
// port, its log in log/puma.log and its pidfile puma.pid in a temporary folder, booted before this
// resolves; and the timing helpers the benchmarks share.
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

export async function startCluster() {
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
  const stop = () => {
    process.kill(puma.pid, 'SIGKILL')
    rmSync(dir, {recursive: true, force: true})
  }

  const deadline = Date.now() + 20_000
  while (
    (readFileSync(join(dir, 'log', 'puma.log'), {encoding: 'utf8', flag: 'a+'}).match(/booted/g) ?? []).length < 2
  ) {
    if (Date.now() > deadline) {
      stop()
      throw new Error('Puma did not boot')
    }

    // eslint-disable-next-line no-await-in-loop -- polling: each check must wait for the previous one
    await sleep(50)
  }

  return {dir, port, puma, stop}
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** The wall time of one run of a command in `cwd`, in ms; it must exit 0. */
export function time(command, args, {cwd, env} = {}) {
  const started = process.hrtime.bigint()
  const result = spawnSync(command, args, {cwd, stdio: 'ignore', env: {...process.env, ...env}})
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`)
  return Number(process.hrtime.bigint() - started) / 1e6
}
