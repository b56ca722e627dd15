import {type ControlEndpoint} from '../control/client.js'
import {usageError} from '../errors.js'
import {type Target, TARGET_OPTIONS, type TargetOptions} from './find.js'

export interface ControlFlags {
  'control-token'?: string
  'control-url'?: string
}

/**
 * Puma's control server for this target: --control-url (with --control-token), else the
 * control_url and token the state file recorded. The token is read from the state file each time,
 * since Puma makes a new one at every (re)start unless the config pins it.
 */
export function findControl(flags: ControlFlags, target?: Target): ControlEndpoint | undefined {
  if (flags['control-url']) return {url: flags['control-url'], token: flags['control-token'], origin: '--control-url'}
  const state = target?.state
  if (state?.controlUrl) return {url: state.controlUrl, token: state.controlAuthToken, origin: target!.origin}
  return undefined
}

/** Only a control URL was given: the master is reached through its control server alone. */
export function controlOnly(flags: ControlFlags & TargetOptions): boolean {
  return Boolean(flags['control-url']) && !TARGET_OPTIONS.some((name) => flags[name])
}

/** For the commands that exist only in the control app: the endpoint, or a clear exit 2. */
export function requireControl(control: ControlEndpoint | undefined, what: string): ControlEndpoint {
  if (control) return control
  throw usageError(`no control server is known for this Puma: ${what} needs one`, {
    suggestion: 'pass --state (a state file with control_url) or --control-url; Puma needs activate_control_app',
  })
}
