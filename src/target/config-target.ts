import {existsSync} from 'node:fs'
import {relative, resolve} from 'node:path'

import {type CtlError, noMasterError} from '../errors.js'
import {describeUnquoted, isQuotablePath} from '../text/untrusted.js'
import {DEFAULT_TARGET_FILES} from './default-files.js'
import {
  configEnvironment,
  type ConfigSetting,
  defaultConfigFiles,
  type PumaConfigFacts,
  readPumaConfig,
} from './puma-config.js'
import {namesMaster, type TargetSelector} from './selector.js'

/** What pumactl takes from a config, and so does ctl: where the master's PID and its control server are. */
const NEEDED: readonly ConfigSetting[] = ['pidfile', 'state_path', 'activate_control_app']

/**
 * The selector with what the app's Puma config names, as pumactl reads it (`||=`: a flag given
 * wins): `-F FILE`, or, when nothing else names the master (no target flag, no default pidfile or
 * state file here), the first of pumactl's default config files. The config's state file is
 * preferred to its pidfile (it also names the control server). Read statically; Puma's own
 * reading only for a setting the static one cannot evaluate, under config-safety.ts's rules.
 * `configOrigin` says which file and which reading, for `status` and messages. Idempotent.
 */
export async function withConfig(
  selector: TargetSelector,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<TargetSelector> {
  if (selector.configOrigin !== undefined) return selector
  const cwd = selector.cwd ?? process.cwd()
  const file = selector.configFile ?? defaultConfig(selector, cwd, env)
  if (file === undefined) return selector
  const path = resolve(cwd, file)
  const facts = await readPumaConfig(path, {appFolder: cwd, needed: NEEDED, ruby: {}}, {env})
  const shown = relative(cwd, facts.path) || facts.path
  const configOrigin = `${shown}, read ${facts.how === 'ruby' ? 'by Puma' : 'statically'}`
  const expanded: TargetSelector = {...selector, configFile: undefined, configOrigin}
  assertPaths(facts, configOrigin)
  if (namesMaster(selector)) return expanded
  if (facts.statePath) return {...expanded, state: facts.statePath, namedByConfig: path}
  if (facts.pidfile) return {...expanded, pidfile: facts.pidfile, namedByConfig: path}
  // Only a control server: a bare activate_control_app ('auto') is a socket only a state file names.
  if (facts.controlUrl && facts.controlUrl !== 'auto' && !selector.controlUrl) {
    const controlToken = selector.controlToken ?? facts.controlToken
    return {...expanded, controlUrl: facts.controlUrl, controlToken, namedByConfig: path}
  }

  // -F names where the master is: a file that names nothing must not turn into a process scan.
  if (selector.configFile !== undefined && !selector.controlUrl) throw namesNothing(facts, configOrigin)
  return expanded
}

function namesNothing(facts: PumaConfigFacts, configOrigin: string): CtlError {
  const unread = facts.unresolved.filter((setting) => NEEDED.includes(setting))
  const suggestion = 'pass --pidfile, --state, --control-url or --pid'
  if (facts.controlUrl === 'auto')
    return noMasterError(
      `${configOrigin} names no pidfile or state_path, and its control server's socket only a state file names`,
      {suggestion},
    )
  if (unread.length === 0)
    return noMasterError(`${configOrigin} names no pidfile, state_path or control server`, {suggestion})
  const why = facts.rubyNote ? ` (${facts.rubyNote})` : ''
  return noMasterError(`${configOrigin}: ctl could not read its ${unread.join(', ')}${why}`, {suggestion})
}

/** pumactl's default config file, when nothing else names the master: none when a flag or a default target file does. */
function defaultConfig(
  selector: TargetSelector,
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (namesMaster(selector) || selector.controlUrl) return undefined
  if (DEFAULT_TARGET_FILES.some((file) => existsSync(resolve(cwd, file)))) return undefined
  return defaultConfigFiles(cwd, configEnvironment(selector.environment, env)).find((file) => existsSync(file))
}

/** The config's pidfile and state_path end up in messages: a value that is no path (a file's text) is refused, unshown. */
function assertPaths(facts: PumaConfigFacts, configOrigin: string): void {
  for (const [setting, value] of [
    ['state_path', facts.statePath],
    ['pidfile', facts.pidfile],
  ] as const) {
    if (value !== undefined && !isQuotablePath(value))
      throw noMasterError(
        `${configOrigin}: its ${setting} is not a file's path (${describeUnquoted(value, 'a path')})`,
        {
          suggestion: `check ${setting} in the config, or pass --state, --pidfile or --pid`,
        },
      )
  }
}
