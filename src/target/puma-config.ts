import {readFile, realpath, stat} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {notPermittedError, usageError} from '../errors.js'
import {type ConfigSetting} from './config-dsl.js'
import {parseRubyOutput, rubyCommand, rubyEnv, type RunProcess, runProcess} from './config-ruby.js'
import {refusalToRun, runAsFor, type StatPath} from './config-safety.js'
import {readStaticConfig, type StaticSettings, type UnresolvedReason} from './config-static.js'
import {NotSmallRegularFile, readSmallRegularFile} from './regular-file.js'

export {CONFIG_SETTINGS, type ConfigSetting} from './config-dsl.js'
export {type UnresolvedReason} from './config-static.js'

/** What pumactl (and ctl) take from a Puma config file. Paths are absolute; absent means "not set by the file". */
export interface PumaConfigFacts {
  binds?: string[]
  /** `data_only: true` (Puma 7.2+): the control server answers /stats and the like, not commands. */
  controlDataOnly?: boolean
  /** 'none' for `no_token: true`; undefined with a control URL means Puma makes a random token at each boot. */
  controlToken?: string
  /** As written; 'auto' (a bare `activate_control_app`) is a temporary socket only the state file names. */
  controlUrl?: string
  directory?: string
  environment?: string
  forkWorker?: number
  how: 'ruby' | 'static'
  /** The config file read, absolute. */
  path: string
  pidfile?: string
  preloadApp?: boolean
  /** With how 'ruby': the Puma version whose DSL read the file. */
  pumaVersion?: string
  /** One per unresolved setting: its line and why, in names only (never a literal's text). */
  reasons: UnresolvedReason[]
  /** Why Ruby was not asked, refused or failed, when the static reading left something unresolved. */
  rubyNote?: string
  statePath?: string
  tag?: string
  /** DSL settings the static reading saw but could not evaluate; their facts are absent. Empty with how 'ruby'. */
  unresolved: ConfigSetting[]
  /** Puma's worker_boot_timeout, worker_shutdown_timeout and worker_timeout (seconds), where the file sets them. */
  workerBootTimeout?: number
  workers?: number
  workerShutdownTimeout?: number
  workerTimeout?: number
}

export interface RubyReadOptions {
  /** The most Ruby may print (default 256 KiB) before it is killed. */
  maxBytes?: number
  /** A folder holding puma.rb: the Puma the master runs. Else the system's `require 'puma'`. */
  pumaLib?: string
  /** The ruby to run (default: `ruby` from PATH). */
  ruby?: string
  /** Give up after this long (default 5000 ms), killing Ruby and anything it started. */
  timeoutMs?: number
}

export interface ReadPumaConfigOptions {
  /** The folder pumactl would run from: relative paths resolve against `directory` if set, else this. */
  appFolder: string
  /** The host `port` binds without one: '0.0.0.0' (Puma < 8, the default) or '[::]' (Puma 8 with IPv6). */
  defaultHost?: string
  /** Run Ruby only if one of these is unresolved (default: any setting). */
  needed?: readonly ConfigSetting[]
  /** Let Puma's own DSL read the file when the static reading is not enough (default: never). */
  ruby?: false | RubyReadOptions
}

export interface ReadPumaConfigDeps {
  env?: Readonly<Record<string, string | undefined>>
  euid?: () => number
  /** The passwd entry of a uid, to set its groups when dropping privileges. */
  lookupUser?: (uid: number) => Promise<undefined | {gid: number; home: string}>
  readFile?: (path: string) => Promise<string>
  realpath?: (path: string) => Promise<string>
  run?: RunProcess
  stat?: StatPath
}

/** pumactl's default config files, in its order: `config/puma/<env>.rb`, then `config/puma.rb`. */
export function defaultConfigFiles(appFolder: string, environment: string): string[] {
  return [join(appFolder, 'config', 'puma', `${environment}.rb`), join(appFolder, 'config', 'puma.rb')]
}

/** pumactl's environment for picking a config file: `-e`, else APP_ENV, RACK_ENV, RAILS_ENV, else development. */
export function configEnvironment(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return flag || env.APP_ENV || env.RACK_ENV || env.RAILS_ENV || 'development'
}

export async function readPumaConfig(
  path: string,
  options: ReadPumaConfigOptions,
  deps: ReadPumaConfigDeps = {},
): Promise<PumaConfigFacts> {
  const env = deps.env ?? process.env
  const file = resolve(options.appFolder, path)
  const source = await readConfigText(file, path, deps.readFile ?? readConfigFile)
  const real = await (deps.realpath ?? realpath)(file).catch(() => file)
  const ctx = {cwd: options.appFolder, env, file, realFile: real, scope: new Map()}
  const settings = readStaticConfig(source, ctx, {defaultHost: options.defaultHost})
  const facts = toFacts(settings, file, options.appFolder, 'static')
  const needed = new Set<string>(options.needed ?? facts.unresolved)
  if (!facts.unresolved.some((setting) => needed.has(setting))) return facts
  if (!options.ruby) return {...facts, rubyNote: 'Ruby was not asked to read it'}
  return rubyFactsOr(facts, {appFolder: options.appFolder, file, real, ruby: options.ruby}, {...deps, env})
}

/**
 * Puma's own reading, whatever the static one found (under the same safety rules): for tests that
 * compare the two, and for a caller that must have Puma's word. `fallback` is returned, with the
 * reason in rubyNote, when Ruby is refused or fails.
 */
export async function rubyFactsOr(
  fallback: PumaConfigFacts,
  {appFolder, file, real, ruby: options}: {appFolder: string; file: string; real: string; ruby: RubyReadOptions},
  deps: ReadPumaConfigDeps & {env: Readonly<Record<string, string | undefined>>},
): Promise<PumaConfigFacts> {
  const paths = {file, real}
  const ruby = await readWithRuby(paths, appFolder, options, deps)
  if ('failure' in ruby) return {...fallback, rubyNote: ruby.failure}
  return {...toFacts({...ruby, reasons: []}, paths.file, appFolder, 'ruby'), pumaVersion: ruby.pumaVersion}
}

/** Real configs are a few KiB; a file far larger is not one (and would take the static reader seconds). */
const MAX_CONFIG_BYTES = 1024 * 1024

async function readConfigFile(path: string): Promise<string> {
  return (await readSmallRegularFile(path, MAX_CONFIG_BYTES)).toString('utf8')
}

async function readConfigText(file: string, shown: string, read: (path: string) => Promise<string>): Promise<string> {
  try {
    return await read(file)
  } catch (error) {
    const {code} = error as NodeJS.ErrnoException
    if (code === 'ENOENT') throw usageError(`config file ${shown} does not exist`)
    if (code === 'EISDIR') throw usageError(`config file ${shown} is a directory`)
    if (code === 'ENOTREG') throw usageError(`config file ${shown} is not a regular file`)
    if (error instanceof NotSmallRegularFile && code === 'EFBIG')
      throw usageError(`config file ${shown} is not a Puma config: it holds ${error.size} bytes`)
    if (code === 'EACCES')
      throw notPermittedError(`cannot read config file ${shown}: permission denied`, {
        suggestion: "run as the server's user",
      })
    throw error
  }
}

async function readWithRuby(
  paths: {file: string; real: string},
  cwd: string,
  options: RubyReadOptions,
  deps: ReadPumaConfigDeps & {env: Readonly<Record<string, string | undefined>>},
): Promise<ReturnType<typeof parseRubyOutput>> {
  const statPath = deps.stat ?? statOwnership
  const euid = (deps.euid ?? (() => process.geteuid?.() ?? -1))()
  const refusal = await refusalToRun(
    paths,
    statPath,
    euid,
    options.pumaLib ? [options.pumaLib, join(options.pumaLib, 'puma')] : [],
  ).catch((error: NodeJS.ErrnoException) => `ctl could not check who can change it (${error.code ?? 'error'})`)
  if (refusal) return {failure: `Ruby was not run: ${refusal}`}
  const owner = runAsFor(await statPath(paths.real), euid)
  const user = owner.kind === 'drop' ? await (deps.lookupUser ?? lookupPasswd)(owner.uid) : undefined
  // The owner's own primary group when the account is known, else the file's group.
  const runAs = owner.kind === 'drop' && user ? {...owner, gid: user.gid} : owner
  const {args, command} = rubyCommand(paths.file, {...options, runAs, userKnown: Boolean(user)})
  const env = {...rubyEnv(deps.env, owner.kind === 'drop'), ...(user ? {HOME: user.home} : {})}
  const timeoutMs = options.timeoutMs ?? 5000
  const result = await (deps.run ?? runProcess)(command, args, {
    cwd,
    env,
    maxBytes: options.maxBytes ?? 256 * 1024,
    timeoutMs,
  })
  return parseRubyOutput(result, timeoutMs)
}

function toFacts(
  settings: Omit<StaticSettings, 'reasons'> & {reasons: UnresolvedReason[]},
  file: string,
  appFolder: string,
  how: 'ruby' | 'static',
): PumaConfigFacts {
  const directory = settings.directory ? resolve(appFolder, settings.directory) : undefined
  const base = directory ?? appFolder
  // resolve() also tidies `a/../b`, as File.join(__dir__, '..', …) leaves it.
  const path = (value: string | undefined) => (value ? resolve(base, value) : undefined)
  const facts: PumaConfigFacts = {
    binds: settings.binds,
    controlDataOnly: settings.control?.dataOnly,
    controlToken: settings.control?.token,
    controlUrl: settings.control?.url,
    directory,
    environment: settings.environment,
    forkWorker: settings.forkWorker,
    how,
    path: file,
    pidfile: path(settings.pidfile),
    preloadApp: settings.preloadApp,
    reasons: settings.reasons,
    statePath: path(settings.state),
    tag: settings.tag,
    unresolved: [...new Set(settings.reasons.map((reason) => reason.setting))],
    workerBootTimeout: settings.workerBootTimeout,
    workers: settings.workers,
    workerShutdownTimeout: settings.workerShutdownTimeout,
    workerTimeout: settings.workerTimeout,
  }
  for (const key of Object.keys(facts) as Array<keyof PumaConfigFacts>) if (facts[key] === undefined) delete facts[key]
  return facts
}

async function statOwnership(path: string): Promise<{gid: number; mode: number; uid: number}> {
  const info = await stat(path)
  return {gid: info.gid, mode: info.mode, uid: info.uid}
}

async function lookupPasswd(uid: number): Promise<undefined | {gid: number; home: string}> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '')
  for (const line of passwd.split('\n')) {
    const fields = line.split(':')
    if (fields.length >= 7 && Number(fields[2]) === uid) return {gid: Number(fields[3]), home: fields[5]}
  }

  return undefined
}
