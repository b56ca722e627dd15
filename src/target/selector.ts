import {type ControlFlags} from './endpoint.js'
import {type TargetOptions} from './find.js'

/** Which Puma master: the same choices as the command-line flags. */
export interface TargetSelector {
  controlToken?: string
  controlUrl?: string
  /** Where relative paths and the default files are resolved from (default: process.cwd()). */
  cwd?: string
  /** Scan for the master running in this folder. */
  dir?: string
  pid?: number | string
  pidfile?: string
  state?: string
  /** Scan for the master with this tag. */
  tag?: string
}

/** The API's names for a master, as the flags the target modules take. */
export function selectorFlags(options: TargetSelector): ControlFlags & TargetOptions {
  return {
    pid: options.pid === undefined ? undefined : String(options.pid),
    pidfile: options.pidfile,
    state: options.state,
    dir: options.dir,
    tag: options.tag,
    cwd: options.cwd,
    'control-url': options.controlUrl,
    'control-token': options.controlToken,
  }
}
