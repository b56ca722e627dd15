/**
 * Which Puma master: the one model of it, taken by the domain (findTarget, findControl, reach,
 * status) and the public API alike. The command line maps its flags to it once (cli/flags.ts
 * selectorOf).
 */
export interface TargetSelector {
  /** Puma's config file (-F): its pidfile, state_path and control server, where no flag names them (as pumactl). */
  configFile?: string
  /** Set once the config has been read (config-target.ts): which file, and how it was read. */
  configOrigin?: string
  controlToken?: string
  /** Puma's control server; given alone, the master is reached through it only. */
  controlUrl?: string
  /** Where relative paths and the default files are resolved from (default: process.cwd()). */
  cwd?: string
  /** Scan for the master running in this folder. */
  dir?: string
  /** -e: picks config/puma/<env>.rb (else APP_ENV, RACK_ENV, RAILS_ENV, development). */
  environment?: string
  /**
   * What the caller does with the master: 'act' (the default: signal it, restart it) refuses a
   * master found only by a process scan from a folder that is not its app; 'look' (status) takes it.
   */
  intent?: 'act' | 'look'
  /** The pidfile, state file or control URL came from this config file (absolute, as given), not a flag. */
  namedByConfig?: string
  pid?: number | string
  pidfile?: string
  state?: string
  /** Scan for the master with this tag. */
  tag?: string
}

/** The ways to name the master itself (each is also the command-line flag of that name). */
export const MASTER_KEYS = ['pid', 'pidfile', 'state', 'dir', 'tag'] as const satisfies ReadonlyArray<
  keyof TargetSelector
>

/**
 * Whether the selector names the master itself, not only its control server. As findTarget reads
 * the keys: a pid when present at all (it is then checked and refused if bad), the others when not
 * empty; a null from an untyped caller names nothing, so it cannot turn into a scan.
 */
export function namesMaster(selector: TargetSelector): boolean {
  return MASTER_KEYS.some((key) => (key === 'pid' ? selector.pid !== undefined : Boolean(selector[key])))
}
