import {execFileSync, spawn} from 'node:child_process'
import {closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync} from 'node:fs'
import {request} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type RawStats} from '../../src/control/stats.js'
import {freePort, killQuietly, readOrEmpty, waitFor, workerPidsOf} from './processes.js'
import {DEBIAN_PUMA, type PumaVersion, realPuma} from './real-puma.js'

export const OK_APP = "run ->(env) { [200, {'Content-Type' => 'text/plain'}, ['ok']] }\n"
export const RAISING_APP = "raise 'boom: simulated boot failure'\nrun ->(env) { [200, {}, ['never']] }\n"

export interface ClusterOptions {
  app?: string
  /** 'auto': a bare `activate_control_app`, whose socket Puma puts at a new random path under the tmp dir at each boot. */
  control?: 'auto' | 'tcp6' | 'tcp' | 'unix'
  /** Puma 7.2+'s `data_only: true`: the control server answers /stats and /gc-stats only. */
  controlDataOnly?: boolean
  /** Default 'test-token'; false: no auth_token, so Puma writes a new random token at each boot. */
  controlToken?: false | string
  /** Writes the config to config/puma.rb and starts Puma without -C: Puma loads it as its default file (not with runIn). */
  defaultConfig?: boolean
  /** `port N` instead of a bind on 127.0.0.1: Puma's default host (8.0+: `[::]`, before: 0.0.0.0). */
  defaultHost?: boolean
  extraConfig?: string
  pidfile?: string
  /** Prepares the folder before Puma starts (e.g. a releases/ layout). */
  prepare?: (dir: string) => void
  /** Puma's stdout_redirect to log/puma.log (default true). */
  redirect?: boolean
  /** stdout_redirect's append argument (default true); false is Puma's own default, which truncates the log. */
  redirectAppend?: boolean
  /** Run Puma as this local user (the test runs as root): the folder becomes theirs, and Puma starts with their uid and gid. */
  runAs?: string
  /** A folder under the cluster's folder to start Puma in (its cwd and PWD), instead of the folder itself. */
  runIn?: string
  state?: string
  /** With redirect: false, Puma's stdout and stderr go to log/puma.log as a shell's `> log 2>&1` sends them, not to a pipe. */
  stdoutToLog?: boolean
  tag?: string
  /**
   * Which real Puma runs (default Debian's 5.6.5). Mind each version's defaults: on 7.0+ `workers 2` preloads,
   * so a phased restart is a hot restart unless extraConfig says `preload_app! false`.
   */
  version?: PumaVersion
  workers?: number
}

export interface PumaCluster {
  controlPort?: number
  dir: string
  logPath: string
  pid: number
  pidfile: string
  port: number
  setApp(source: string): void
  statePath: string
  /** Kills the master and every worker ever seen, by PID, and removes the folder. Safe to call twice. */
  stop(): Promise<void>
  /** Worker PIDs from the process table, by title. */
  workerPids(): number[]
}

function controlUrl(options: ClusterOptions, dir: string, port?: number): string | undefined {
  if (options.control === 'auto') return 'auto'
  if (options.control === 'tcp') return `tcp://127.0.0.1:${port}`
  if (options.control === 'tcp6') return `tcp://[::1]:${port}`
  if (options.control === 'unix') return `unix://${join(dir, 'control.sock')}`
  return undefined
}

/** A free port for a TCP control server, when `options` ask for one. */
async function controlPortFor({control}: ClusterOptions): Promise<number | undefined> {
  return control === 'tcp' || control === 'tcp6' ? freePort() : undefined
}

/** puma.rb: the options as Puma's config DSL, one line each. */
function pumaConfig(
  options: ClusterOptions,
  at: {control?: string; logPath: string; pidfile: string; port: number; statePath: string; workers: number},
): string {
  return [
    `workers ${at.workers}`,
    options.defaultHost ? `port ${at.port}` : `bind 'tcp://127.0.0.1:${at.port}'`,
    options.redirect === false
      ? ''
      : `stdout_redirect '${at.logPath}', '${at.logPath}', ${options.redirectAppend ?? true}`,
    `pidfile '${at.pidfile}'`,
    `state_path '${at.statePath}'`,
    options.tag ? `tag '${options.tag}'` : '',
    controlConfig(options, at.control),
    options.extraConfig ?? '',
  ].join('\n')
}

/** activate_control_app as `options` ask; with control 'auto' and no token, bare (Puma's 'auto' URL, a random token). */
function controlConfig(options: ClusterOptions, url?: string): string {
  if (!url) return ''
  const settings = [
    options.controlToken === false ? '' : `auth_token: '${options.controlToken ?? 'test-token'}'`,
    options.controlDataOnly ? 'data_only: true' : '',
  ].filter(Boolean)
  const where = url === 'auto' ? '' : ` '${url}'`
  if (settings.length === 0) return `activate_control_app${where}`
  return `activate_control_app${url === 'auto' ? " 'auto'" : where}, { ${settings.join(', ')} }`
}

/** Starts a real Puma (Debian's 5.6.5 unless `version` says otherwise) on 127.0.0.1 in a temporary folder and waits for every worker's boot line. */
export async function startPumaCluster(options: ClusterOptions = {}): Promise<PumaCluster> {
  const puma = await realPuma(options.version ?? DEBIAN_PUMA)
  const workers = options.workers ?? 2
  const dir = mkdtempSync(join(tmpdir(), 'ctl-puma-'))
  mkdirSync(join(dir, 'log'))
  const port = await freePort()
  const controlPort = await controlPortFor(options)
  const pidfile = join(dir, options.pidfile ?? 'puma-test.pid')
  const statePath = join(dir, options.state ?? 'puma-test.state')
  const logPath = join(dir, 'log', 'puma.log')
  writeFileSync(join(dir, 'config.ru'), options.app ?? OK_APP)
  const configPath = join(dir, options.defaultConfig ? 'config/puma.rb' : 'puma.rb')
  if (options.defaultConfig) mkdirSync(join(dir, 'config'))
  writeFileSync(
    configPath,
    pumaConfig(options, {workers, port, logPath, pidfile, statePath, control: controlUrl(options, dir, controlPort)}),
  )
  options.prepare?.(dir)
  const user = asUser(dir, options.runAs)
  const runIn = options.runIn ? join(dir, options.runIn) : dir
  const logFd = options.stdoutToLog ? openSync(logPath, 'w') : undefined
  const output = logFd ?? (options.redirect === false ? 'pipe' : 'ignore')
  const child = spawn(puma, options.defaultConfig ? [] : ['-C', configPath], {
    cwd: runIn,
    env: {...process.env, PWD: runIn, ...user.env},
    uid: user.uid,
    gid: user.gid,
    detached: true, // its own process group: nothing a test sends to its group reaches Puma, and vice versa
    stdio: ['ignore', output, output],
  })
  if (logFd !== undefined) closeSync(logFd) // Puma holds its own copy, as after a shell's redirect
  const piped: string[] = []
  child.stdout?.on('data', (chunk) => piped.push(String(chunk)))
  child.stderr?.on('data', (chunk) => piped.push(String(chunk)))
  child.unref()
  const pid = child.pid!
  const seen = new Set<number>([pid])
  const workerPids = () => {
    const pids = workerPidsOf(pid)
    for (const workerPid of pids) seen.add(workerPid)
    return pids
  }

  const cluster: PumaCluster = {
    dir,
    port,
    controlPort,
    pid,
    logPath,
    pidfile,
    statePath,
    workerPids,
    setApp: (source) => writeFileSync(join(dir, 'config.ru'), source),
    async stop() {
      workerPids()
      for (const each of seen) killQuietly(each, 'SIGKILL')
      child.stdout?.destroy()
      child.stderr?.destroy()
      rmSync(dir, {recursive: true, force: true})
    },
  }

  const log = () => (options.redirect === false && !options.stdoutToLog ? piped.join('') : readOrEmpty(logPath))
  try {
    // Single mode writes its pidfile once the app is loaded and bound; a cluster is ready at its last boot line.
    const ready = () =>
      workers === 0 ? readOrEmpty(pidfile) !== '' : (log().match(/booted in/g) ?? []).length >= workers
    await waitFor(ready, 20_000, () => `Puma did not boot:\n${log()}`)
    workerPids()
  } catch (error) {
    await cluster.stop()
    throw error
  }

  return cluster
}

/** With runAs: the folder becomes that user's, and Puma starts with their uid, gid and HOME. */
function asUser(dir: string, name?: string): {env?: {HOME: string}; gid?: number; uid?: number} {
  if (name === undefined) return {}
  const id = (flag: string) => Number(execFileSync('id', [flag, name], {encoding: 'utf8'}).trim())
  const [uid, gid] = [id('-u'), id('-g')]
  execFileSync('chown', ['-R', `${uid}:${gid}`, dir])
  return {uid, gid, env: {HOME: dir}}
}

/** Puma's /stats, straight from a `control: 'tcp'` cluster's control server (not through ctl). */
export async function statsOf(cluster: PumaCluster): Promise<RawStats> {
  return new Promise((resolve, reject) => {
    request({host: '127.0.0.1', port: cluster.controlPort, path: '/stats?token=test-token'}, (response) => {
      let body = ''
      response.on('data', (chunk) => {
        body += chunk
      })
      response.on('end', () => resolve(JSON.parse(body)))
    })
      .on('error', reject)
      .end()
  })
}
