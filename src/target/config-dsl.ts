import {hashGet, isHash, rubyInteger, rubyString, truthy, Unknown, type Value} from './ruby-eval.js'

/**
 * Puma's DSL as data: the settings ctl reads, which fact each one fills, and what each method stores
 * for its arguments (dsl.rb, the same from 5.x to 8.x for these).
 */

/** The DSL settings ctl cares about. `set_default_host` and `ssl_bind` only matter through `binds`. */
export const CONFIG_SETTINGS = [
  'activate_control_app',
  'bind',
  'directory',
  'environment',
  'fork_worker',
  'pidfile',
  'port',
  'preload_app!',
  'set_default_host',
  'ssl_bind',
  'state_path',
  'tag',
  'worker_boot_timeout',
  'worker_shutdown_timeout',
  'worker_timeout',
  'workers',
] as const
export type ConfigSetting = (typeof CONFIG_SETTINGS)[number]

export interface ControlSetting {
  dataOnly: boolean
  /** Undefined when Puma makes a random one at each boot (`activate_control_app` without `auth_token:`). */
  token?: string
  url: string
}

/** What a config sets, by either reading (static or Puma's own): each absent when the file does not set it. */
export interface ConfigValues {
  binds?: string[]
  control?: ControlSetting
  directory?: string
  environment?: string
  forkWorker?: number
  pidfile?: string
  preloadApp?: boolean
  state?: string
  tag?: string
  /** Puma's worker_boot_timeout, worker_shutdown_timeout and worker_timeout, in seconds. */
  workerBootTimeout?: number
  workers?: number
  workerShutdownTimeout?: number
  workerTimeout?: number
}

/** Where a setting's value goes in the static reading. */
export type Slot =
  | 'binds'
  | 'control'
  | 'directory'
  | 'environment'
  | 'forkWorker'
  | 'pidfile'
  | 'preloadApp'
  | 'state'
  | 'tag'
  | 'workerBootTimeout'
  | 'workers'
  | 'workerShutdownTimeout'
  | 'workerTimeout'

export const SLOT = new Map<ConfigSetting, Slot>([
  ['activate_control_app', 'control'],
  ['bind', 'binds'],
  ['directory', 'directory'],
  ['environment', 'environment'],
  ['fork_worker', 'forkWorker'],
  ['pidfile', 'pidfile'],
  ['port', 'binds'],
  ['preload_app!', 'preloadApp'],
  ['set_default_host', 'binds'],
  ['ssl_bind', 'binds'],
  ['state_path', 'state'],
  ['tag', 'tag'],
  ['worker_boot_timeout', 'workerBootTimeout'],
  ['worker_shutdown_timeout', 'workerShutdownTimeout'],
  ['worker_timeout', 'workerTimeout'],
  ['workers', 'workers'],
])

type SettingValue = boolean | ControlSetting | number | string | Unknown
const text = (setting: string) => (args: Value[]) =>
  rubyString(args[0] ?? null) ?? new Unknown(`passes ${setting} a value it cannot print`)

type Store = (args: Value[], defaultHost: string) => SettingValue

/** Puma's timeouts take Integer(value): a whole, positive number of seconds. */
const seconds = (setting: string) => (args: Value[]) => {
  const value = rubyInteger(args[0] ?? null)
  return value !== undefined && value > 0 ? value : new Unknown(`passes ${setting} a value it cannot count`)
}

function port([number, host]: Value[], defaultHost: string): SettingValue {
  const port = rubyInteger(number ?? null)
  const name = host === undefined || host === null ? defaultHost : rubyString(host)
  if (port === undefined || name === undefined) return new Unknown('passes port a value Puma would refuse')
  // URI::Generic.build brackets an IPv6 host
  return `tcp://${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${port}`
}

/** What each DSL method stores for its (evaluated) arguments, or why that cannot be told. */
const STORES = new Map<ConfigSetting, Store>([
  ['activate_control_app', ([url, opts]) => controlSetting(url, opts)],
  ['bind', text('bind')],
  ['directory', text('directory')],
  ['environment', text('environment')],
  [
    'fork_worker',
    ([after]) => rubyInteger(after ?? 1000) ?? new Unknown('passes fork_worker a value Puma would refuse'),
  ],
  ['pidfile', text('pidfile')],
  ['port', port],
  ['preload_app!', ([answer]) => (answer === undefined ? true : truthy(answer))],
  ['set_default_host', text('set_default_host')],
  ['ssl_bind', () => new Unknown('uses ssl_bind, whose URL the static reader does not build')],
  ['state_path', text('state_path')],
  ['tag', text('tag')],
  ['worker_boot_timeout', seconds('worker_boot_timeout')],
  ['worker_shutdown_timeout', seconds('worker_shutdown_timeout')],
  ['worker_timeout', seconds('worker_timeout')],
  [
    'workers',
    ([count]) =>
      count === null
        ? 0
        : (rubyInteger(count ?? null) ?? new Unknown('sets workers to a value it cannot count (e.g. :auto)')),
  ],
])

export function settingValue(setting: ConfigSetting, args: Value[], defaultHost: string): SettingValue {
  return STORES.get(setting)!(args, defaultHost)
}

function controlSetting(url: undefined | Value, opts: undefined | Value): ControlSetting | Unknown {
  const address = url === undefined ? 'auto' : rubyString(url)
  if (address === undefined) return new Unknown('passes activate_control_app a URL it cannot print')
  const options = opts ?? {pairs: []}
  if (!isHash(options)) return new Unknown('passes activate_control_app options it cannot read')
  const dataOnly = truthy(hashGet(options, 'data_only'))
  if (truthy(hashGet(options, 'no_token'))) return {dataOnly, token: 'none', url: address}
  const token = hashGet(options, 'auth_token')
  if (token !== null && typeof token !== 'string')
    return new Unknown('passes activate_control_app a token it cannot read')
  return {dataOnly, token: token ?? undefined, url: address}
}
