import {spawn} from 'node:child_process'

import {type ConfigValues} from './config-dsl.js'
import {type RunAs} from './config-safety.js'

/**
 * The Ruby both of ctl's Puma scripts start with: the script's own output to stderr (its stdout is
 * the JSON result), `lib` on the load path (the master's Puma, when known), and
 * `ctl_puma_configuration(files, &before)`: Puma's Configuration for `files` as pumactl builds it,
 * with plugins not loaded (nothing of the app may start); `before` runs before it is built.
 */
export const PUMA_CONFIGURATION_PRELUDE = String.raw`
out = STDOUT.dup
STDOUT.reopen(STDERR)
require 'json'
def ctl_puma_configuration(lib, files)
  $LOAD_PATH.unshift(lib) unless lib.to_s.empty?
  require 'puma'
  require 'puma/configuration'
  begin; require 'puma/log_writer'; rescue LoadError; end
  Puma::DSL.prepend(Module.new { def plugin(*) = nil })
  yield if block_given?
  args = [files.empty? ? {} : {config_files: files}, {}]
  takes_env = Puma::Configuration.instance_method(:initialize).parameters.count { |t, _| t == :opt || t == :req } >= 3
  args << ENV.to_h if takes_env
  Puma::Configuration.new(*args)
end
`

/**
 * Puma's own reading of a config file: a short Ruby script loads it with Puma's DSL as pumactl does
 * (`Configuration.new({config_files: [path]}, {}, env)` then `load`) and prints the file's options as
 * JSON. Plugins are not loaded (`plugin` is a no-op here): reading must not start anything of the app.
 * The config's own output goes to stderr, which is never shown; a failure is described by the
 * exception's class and line only.
 */
export const READ_CONFIG_SCRIPT =
  PUMA_CONFIGURATION_PRELUDE +
  String.raw`
path, lib = ARGV
result = begin
  random = Object.new
  config = ctl_puma_configuration(lib, [path]) do
    Puma::Configuration.define_singleton_method(:random_token) { random }
  end
  config.load
  o = (config.instance_variable_get(:@_options) || config.instance_variable_get(:@options)).file_options
  token = o[:control_auth_token]
  text = ->(v) { v.nil? ? nil : v.to_s }
  {ok: {
    puma: Puma::Const::PUMA_VERSION,
    pidfile: text[o[:pidfile]], state: text[o[:state]],
    control_url: o[:control_url_temp] ? 'auto' : text[o[:control_url]],
    control_auth_token: token.equal?(random) ? nil : text[token],
    control_data_only: o[:control_data_only] ? true : false,
    directory: text[o[:directory]], environment: o[:environment].is_a?(String) ? o[:environment] : nil,
    binds: o[:binds]&.map(&:to_s), tag: text[o[:tag]],
    workers: o[:workers].is_a?(Integer) ? o[:workers] : nil,
    preload_app: o.key?(:preload_app) ? (o[:preload_app] ? true : false) : nil,
    fork_worker: o[:fork_worker].is_a?(Integer) ? o[:fork_worker] : nil,
    worker_boot_timeout: o[:worker_boot_timeout].is_a?(Integer) ? o[:worker_boot_timeout] : nil,
    worker_shutdown_timeout: o[:worker_shutdown_timeout].is_a?(Integer) ? o[:worker_shutdown_timeout] : nil,
    worker_timeout: o[:worker_timeout].is_a?(Integer) ? o[:worker_timeout] : nil,
  }}
rescue Exception => e
  line = (e.backtrace_locations || []).find { |l| l.path == path }&.lineno
  {error: e.class.name.to_s[/\A[A-Z][\w:]*\z/] || 'an exception', line: line}
end
out.write(JSON.generate(result))
`

export interface RubyFacts extends ConfigValues {
  pumaVersion: string
}

export interface RunResult {
  code: null | number
  /** Set when the output passed the cap and the process was killed for it. */
  overflow: boolean
  signal: null | string
  stdout: string
  timedOut: boolean
}

export interface RunOptions {
  cwd: string
  env: Record<string, string | undefined>
  maxBytes: number
  /** Aborted (Ctrl-C): the process group is killed at once, as at the time bound. */
  signal?: AbortSignal
  timeoutMs: number
}

export type RunProcess = (command: string, args: string[], options: RunOptions) => Promise<RunResult>

export interface RubyCommandOptions {
  /** A folder holding puma.rb (the master's Puma); else `require 'puma'` finds the system's. */
  pumaLib?: string
  ruby?: string
  runAs: RunAs
  /** When dropping privileges: the owner's account has a passwd entry, so its groups can be set. */
  userKnown?: boolean
}

/** The command line: ruby, behind `setpriv` when root drops to the file's owner. */
export function rubyCommand(file: string, options: RubyCommandOptions): {args: string[]; command: string} {
  const ruby = options.ruby ?? 'ruby'
  const rubyArgs = ['-e', READ_CONFIG_SCRIPT, '--', file, options.pumaLib ?? '']
  if (options.runAs.kind === 'self') return {args: rubyArgs, command: ruby}
  const {gid, uid} = options.runAs
  const groups = options.userKnown ? '--init-groups' : '--clear-groups'
  return {args: [`--reuid=${uid}`, `--regid=${gid}`, groups, '--', ruby, ...rubyArgs], command: 'setpriv'}
}

/** What would make Ruby load other code first, and ctl's own settings (its control token): never the config's. */
const NEVER_PASSED = /^(RUBYLIB|RUBYOPT|PUMA_CTL_\w*)$/

/**
 * Names of variables that hold secrets. Root dropping to a file's owner runs code that owner chose:
 * root's secrets (a deploy's cloud keys, an SSH agent) must not go with it. Configs read settings
 * (RAILS_ENV, PORT, PIDFILE, WEB_CONCURRENCY), which do not look like these.
 */
const SECRET_NAMED = /TOKEN|SECRET|PASSW|KEY|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|CERT/i

/** The env Ruby gets: the caller's, without what Ruby must not see; when `dropping` to another user, without secrets. */
export function rubyEnv(
  env: Readonly<Record<string, string | undefined>>,
  dropping = false,
): Record<string, string | undefined> {
  const clean: Record<string, string | undefined> = {}
  for (const [key, value] of Object.entries(env))
    if (!NEVER_PASSED.test(key) && !(dropping && SECRET_NAMED.test(key))) clean[key] = value
  return clean
}

/** RubyFacts from the script's output, or a description of what went wrong (never the output itself). */
export function parseRubyOutput(result: RunResult, timeoutMs: number): RubyFacts | {failure: string} {
  if (result.timedOut) return {failure: `Ruby did not finish within ${timeoutMs / 1000} s and was killed`}
  if (result.overflow) return {failure: 'Ruby printed more than a config reading can, and was killed'}
  let parsed: unknown
  try {
    parsed = JSON.parse(result.stdout)
  } catch {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.code}`
    return {failure: `Ruby ${how} without a reading${result.code === 127 ? ' (is ruby installed?)' : ''}`}
  }

  const {error, line, ok} = (parsed ?? {}) as {error?: unknown; line?: unknown; ok?: Record<string, unknown>}
  if (typeof error === 'string')
    return {failure: `Puma's reading raised ${error}${typeof line === 'number' ? ` at line ${line}` : ''}`}
  if (!ok || typeof ok !== 'object') return {failure: 'Ruby printed something other than a reading'}
  return rubyFacts(ok)
}

function rubyFacts(ok: Record<string, unknown>): RubyFacts {
  const text = (key: string) => (typeof ok[key] === 'string' ? (ok[key] as string) : undefined)
  const int = (key: string) =>
    typeof ok[key] === 'number' && Number.isInteger(ok[key]) ? (ok[key] as number) : undefined
  const url = text('control_url')
  return {
    binds: Array.isArray(ok.binds) ? ok.binds.filter((b): b is string => typeof b === 'string') : undefined,
    control:
      url === undefined ? undefined : {dataOnly: ok.control_data_only === true, token: text('control_auth_token'), url},
    directory: text('directory'),
    environment: text('environment'),
    forkWorker: int('fork_worker'),
    pidfile: text('pidfile'),
    preloadApp: typeof ok.preload_app === 'boolean' ? ok.preload_app : undefined,
    pumaVersion: text('puma') ?? 'unknown',
    state: text('state'),
    tag: text('tag'),
    workerBootTimeout: int('worker_boot_timeout'),
    workers: int('workers'),
    workerShutdownTimeout: int('worker_shutdown_timeout'),
    workerTimeout: int('worker_timeout'),
  }
}

/**
 * Runs a command in its own process group, killing the whole group at the time bound or when stdout
 * passes `maxBytes`; stderr is drained and dropped.
 */
export const runProcess: RunProcess = (command, args, options) =>
  new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      detached: true,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const chunks: Buffer[] = []
    let size = 0
    let overflow = false
    let timedOut = false
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }

    const stop = () => {
      killGroup()
      // A grandchild that left the group may still hold the pipes: stop reading them.
      child.stdout.destroy()
      child.stderr.destroy()
    }

    const timer = setTimeout(() => {
      timedOut = true
      stop()
    }, options.timeoutMs)
    options.signal?.addEventListener('abort', stop, {once: true})
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > options.maxBytes) {
        overflow = true
        killGroup()
        child.stdout.destroy()
        child.stderr.destroy()
      } else chunks.push(chunk)
    })
    child.stderr.resume()
    const finish = (code: null | number, signal: null | string) => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', stop)
      resolve({code, overflow, signal, stdout: Buffer.concat(chunks).toString('utf8'), timedOut})
    }

    child.on('error', () => finish(127, null))
    child.on('close', finish)
  })
