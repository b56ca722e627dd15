import {type ControlEndpoint} from '../control/client.js'
import {usageError} from '../errors.js'
import {type Target} from './find.js'
import {namesMaster, type TargetSelector} from './selector.js'

/**
 * Puma's control server for this target: controlUrl (with controlToken), else the control_url and
 * token the state file recorded. The token is read from the state file each time, since Puma makes
 * a new one at every (re)start unless the config pins it.
 */
export function findControl(selector: TargetSelector, target?: Target): ControlEndpoint | undefined {
  return givenControl(selector) ?? stateControl(target)
}

/** The given control server, when nothing names the master itself: the master is then reached through it alone. */
export function controlOnly(selector: TargetSelector): ControlEndpoint | undefined {
  return namesMaster(selector) ? undefined : givenControl(selector)
}

function givenControl({controlUrl, controlToken}: TargetSelector): ControlEndpoint | undefined {
  return controlUrl ? {url: controlUrl, token: controlToken, origin: '--control-url'} : undefined
}

function stateControl(target?: Target): ControlEndpoint | undefined {
  if (!target?.state?.controlUrl) return undefined
  return {url: target.state.controlUrl, token: target.state.controlAuthToken, origin: target.origin}
}

/** For the commands that exist only in the control app: the endpoint, or a clear exit 2. */
export function requireControl(control: ControlEndpoint | undefined, what: string): ControlEndpoint {
  if (control) return control
  throw usageError(`no control server is known for this Puma: ${what} needs one`, {
    suggestion: 'pass --state (a state file with control_url) or --control-url; Puma needs activate_control_app',
  })
}
