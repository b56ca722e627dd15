import {type Via} from '../actions/deliver.js'
import {type ControlEndpoint} from '../control/client.js'
import {type ControlFlags, controlOnly, findControl} from './endpoint.js'
import {type FindDeps, findTarget, type Target, type TargetOptions} from './find.js'

/** What a command talks to: the verified master, its control server, or both. */
export interface Reach {
  control?: ControlEndpoint
  target?: Target
}

/** The master (verified) and its control server; with only --control-url, the control server alone. */
export async function reach(options: ControlFlags & TargetOptions, deps?: FindDeps): Promise<Reach> {
  if (controlOnly(options)) return {control: findControl(options)}
  const target = await findTarget(options, deps)
  return {target, control: findControl(options, target)}
}

/** By signal when the master is known, else through the control server, unless the caller chose. */
export function viaFor(target: Reach, chosen?: Via): Via {
  return chosen ?? (target.target ? 'signal' : 'control')
}
