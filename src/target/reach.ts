import {type Via} from '../actions/deliver.js'
import {type ControlEndpoint} from '../control/client.js'
import {withConfig} from './config-target.js'
import {controlOnly, findControl} from './endpoint.js'
import {type FindDeps, findTarget, type Target} from './find.js'
import {type PumaMaster} from './scan.js'
import {type TargetSelector} from './selector.js'

/** What a command talks to: the verified master (and its control server, when known), or only a control server. */
export type Reach =
  {control: ControlEndpoint; kind: 'control'} | {control?: ControlEndpoint; kind: 'master'; target: Target}

/** The master (verified) and its control server; with only a control URL, the control server alone. */
export async function reach(given: TargetSelector, deps?: FindDeps): Promise<Reach> {
  const selector = await withConfig(given)
  const control = controlOnly(selector)
  if (control) return {kind: 'control', control}
  const target = await findTarget(selector, deps)
  return {kind: 'master', target, control: findControl(selector, target)}
}

/**
 * The control server the selector leads to, for the requests that go to it alone (stats, gc, …).
 * Looking is enough: a master found by a process scan brings no control server, so nothing a scan
 * found is ever acted on through this.
 */
export async function controlFor(selector: TargetSelector, deps?: FindDeps): Promise<ControlEndpoint | undefined> {
  return (await reach({...selector, intent: 'look'}, deps)).control
}

/** By signal when the master is known, else through the control server, unless the caller chose. */
export function viaFor(reached: Reach, chosen?: Via): Via {
  return chosen ?? (reached.kind === 'master' ? 'signal' : 'control')
}

/** The verified master, when there is one: for messages and results that name its PID. */
export function masterOf(reached: Reach): PumaMaster | undefined {
  return reached.kind === 'master' ? reached.target.master : undefined
}
