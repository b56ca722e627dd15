import {type ControlEndpoint, parseControlUrl} from '../control/client.js'
import {usageError} from '../errors.js'
import {type Target} from './find.js'
import {namesMaster, type TargetSelector} from './selector.js'
import {readStateFile} from './state-file.js'

/**
 * Puma's control server for this target: controlUrl (with controlToken), else the control_url and
 * token the state file recorded. The token is read from the state file each time, since Puma makes
 * a new one at every boot unless the config pins it (rereadControl reads it again after one).
 */
export function findControl(selector: TargetSelector, target?: Target): ControlEndpoint | undefined {
  return givenControl(selector) ?? stateControl(target)
}

/** The given control server, when nothing names the master itself: the master is then reached through it alone. */
export function controlOnly(selector: TargetSelector): ControlEndpoint | undefined {
  // Checked first, whatever names the master: a mistyped --control-url is a usage error before any lookup.
  const given = givenControl(selector)
  return namesMaster(selector) ? undefined : given
}

/** The --control-url, checked (a usage error when malformed or out of range, its secrets not shown). */
function givenControl({controlUrl, controlToken}: TargetSelector): ControlEndpoint | undefined {
  if (!controlUrl) return undefined
  parseControlUrl(controlUrl)
  return {url: controlUrl, token: controlToken, origin: '--control-url'}
}

function stateControl(target?: Target): ControlEndpoint | undefined {
  if (!target?.state?.controlUrl) return undefined
  const {controlUrl, controlAuthToken, path} = target.state
  return {url: controlUrl, token: controlAuthToken, origin: target.origin, ...(path && {statePath: path})}
}

/**
 * The control server as its state file records it now, for an endpoint read from one. Puma
 * rewrites the file at each boot (a hot restart too: same PID) before its control server listens,
 * with a new token unless the config pins it and a new socket for a bare activate_control_app.
 * Undefined for a --control-url (used as given), and for a file that cannot be read now (Puma
 * may be writing it) or that no longer names `masterPid`.
 */
export async function rereadControl(stale: ControlEndpoint, masterPid: number): Promise<ControlEndpoint | undefined> {
  if (!stale.statePath) return undefined
  const state = await readStateFile(stale.statePath).catch(() => undefined)
  if (state?.pid !== masterPid || !state.controlUrl) return undefined
  return {...stale, url: state.controlUrl, token: state.controlAuthToken}
}

/** For the commands that exist only in the control app: the endpoint, or a clear exit 2. */
export function requireControl(control: ControlEndpoint | undefined, what: string): ControlEndpoint {
  if (control) return control
  throw usageError(`no control server is known for this Puma: ${what} needs one`, {
    suggestion: 'pass --state (a state file with control_url) or --control-url; Puma needs activate_control_app',
  })
}
