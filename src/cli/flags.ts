import {DEFAULT_TARGET_FILES} from '../target/find.js'
import {MASTER_KEYS, type TargetSelector} from '../target/selector.js'

// Flags as plain data: oclif's flag builders are made from them for --help, the manifest and
// completion (cli/oclif.ts), and the fast path parses with them without loading oclif.

interface FlagCommon {
  char?: string
  /** Flags this one needs. */
  dependsOn?: string[]
  /** Flags that cannot be given together with this one. */
  exclusive?: string[]
  helpGroup?: string
  summary: string
}

export interface StringFlag extends FlagCommon {
  /**
   * An environment variable that supplies the value when the flag is not given. Applied after
   * parsing (fillFromEnvironment), so that an exported variable never trips a flag's dependsOn.
   */
  env?: string
  kind: 'string'
}

export interface IntegerFlag extends FlagCommon {
  /** None: undefined when not given (the command derives one). */
  default?: number
  kind: 'integer'
  max?: number
  min?: number
}

/** The longest wait a timer can hold (2^31 - 1 ms): Node turns a longer one into 1 ms, with a warning. */
export const MAX_WAIT_SECONDS = 2_147_483

export interface BooleanFlag extends FlagCommon {
  /** Also accept --no-NAME. */
  allowNo?: boolean
  default: boolean
  kind: 'boolean'
}

export interface OptionFlag<T extends string = string> extends FlagCommon {
  kind: 'option'
  options: readonly T[]
}

export type FlagSpec = BooleanFlag | IntegerFlag | OptionFlag | StringFlag
export type FlagSpecs = Record<string, FlagSpec>

/** The parsed values of a set of flags, with --json, which every command has. */
export type FlagValues<F extends FlagSpecs> = {
  [K in keyof F]: F[K] extends IntegerFlag
    ? F[K] extends {default: number}
      ? number
      : number | undefined
    : F[K] extends BooleanFlag
      ? boolean
      : F[K] extends OptionFlag<infer T>
        ? T | undefined
        : string | undefined
} & {json: boolean; quiet: boolean}

export const JSON_FLAG: BooleanFlag = {
  kind: 'boolean',
  summary: 'Format output as json.',
  helpGroup: 'GLOBAL',
  default: false,
}

/** Every command's --quiet (pumactl's -Q): no progress or notes, only the result and errors. */
export const QUIET_FLAG: BooleanFlag = {
  kind: 'boolean',
  char: 'q',
  summary: 'Print nothing but the result and errors (pumactl: -Q).',
  helpGroup: 'GLOBAL',
  default: false,
}

/** The flags every command has besides its own. */
export const GLOBAL_FLAGS = {json: JSON_FLAG, quiet: QUIET_FLAG} as const satisfies FlagSpecs

const exclusiveOf = (name: string, ...alsoAllowed: string[]) =>
  MASTER_KEYS.filter((flag) => flag !== name && !alsoAllowed.includes(flag))

/** How every command names its Puma master. */
export const targetFlags = {
  pid: {
    kind: 'string',
    char: 'p',
    summary: 'PID of the Puma master.',
    helpGroup: 'TARGET',
    exclusive: exclusiveOf('pid'),
  },
  pidfile: {
    kind: 'string',
    char: 'P',
    summary: 'Puma pidfile.',
    helpGroup: 'TARGET',
    exclusive: exclusiveOf('pidfile'),
  },
  state: {
    kind: 'string',
    char: 'S',
    summary: "Puma's state file (state_path).",
    helpGroup: 'TARGET',
    exclusive: exclusiveOf('state'),
  },
  dir: {
    kind: 'string',
    summary: "Scan for the master whose working folder is DIR (the app's folder).",
    helpGroup: 'TARGET',
    exclusive: exclusiveOf('dir', 'tag'),
  },
  tag: {
    kind: 'string',
    summary: 'Scan for the master with this Puma tag (the [tag] in its title).',
    helpGroup: 'TARGET',
    exclusive: exclusiveOf('tag', 'dir'),
  },
  'config-file': {
    kind: 'string',
    char: 'F',
    summary:
      "Puma's config file (pumactl -F): its state_path, pidfile or activate_control_app name the master where no other flag does.",
    helpGroup: 'TARGET',
  },
  environment: {
    kind: 'string',
    char: 'e',
    summary:
      'Which config/puma/ENV.rb is read when nothing else names the master (default: APP_ENV, RACK_ENV, RAILS_ENV, development).',
    helpGroup: 'TARGET',
  },
} satisfies FlagSpecs

/** Puma's control server (activate_control_app), which the state file also records. */
export const controlFlags = {
  'control-url': {
    kind: 'string',
    char: 'C',
    summary: "Puma's control server: tcp://HOST:PORT or unix:///PATH.",
    helpGroup: 'TARGET',
  },
  'control-token': {
    kind: 'string',
    char: 'T',
    summary:
      'The auth token for --control-url (never printed). Prefer PUMA_CTL_CONTROL_TOKEN in the environment: other users can read a command line.',
    helpGroup: 'TARGET',
    env: 'PUMA_CTL_CONTROL_TOKEN',
    dependsOn: ['control-url'],
  },
} satisfies FlagSpecs

/** The values of the target flags and, where a command has them, the control flags. */
export type TargetFlagValues = Partial<Record<keyof typeof controlFlags | keyof typeof targetFlags, string>>

/** The command line's way to name a master, as the domain's: the one place flag names become selector names. */
export function selectorOf(flags: TargetFlagValues): TargetSelector {
  return {
    pid: flags.pid,
    pidfile: flags.pidfile,
    state: flags.state,
    dir: flags.dir,
    tag: flags.tag,
    configFile: flags['config-file'],
    environment: flags.environment,
    controlUrl: flags['control-url'],
    controlToken: flags['control-token'],
  }
}

/** --via for the commands both a signal and the control server can carry. */
export const viaFlag = {
  via: {
    kind: 'option',
    summary:
      "Send by signal or through Puma's control server (default: signal, or control when only --control-url is given).",
    options: ['signal', 'control'] as const,
  },
} satisfies Record<string, OptionFlag<'control' | 'signal'>>

/** The restarts' (and start's) event stream, src/render/restart-ndjson.ts. */
export const ndjsonFlag = {
  ndjson: {
    kind: 'boolean',
    summary:
      'Write one JSON object a line on stdout as things happen (sent or started, phase-started, worker-booted, failure, …); the last line is what --json prints.',
    default: false,
    exclusive: ['json'],
  },
} satisfies Record<string, BooleanFlag>

/** Flags not given take their environment variable's value, if it is set and not empty. */
export function fillFromEnvironment<F extends FlagSpecs>(
  specs: F,
  values: FlagValues<F>,
  env: NodeJS.ProcessEnv,
): FlagValues<F> {
  const filled: Record<string, unknown> = {...values}
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.kind === 'string' && spec.env && filled[name] === undefined && env[spec.env]) filled[name] = env[spec.env]
  }

  return filled as FlagValues<F>
}

export const TARGET_HELP = `Finding the master: --pid, --pidfile or --state; otherwise the first of ${DEFAULT_TARGET_FILES.join(', ')} under the current folder; otherwise a scan of the process table for Puma masters (narrowed by --dir and --tag). Before anything is sent, the PID must be alive and a Puma master; a pidfile or state file must be owned by the master's user (or root) and belong to the app the master runs from (a stale default file gives way to the next one, with a warning); and a master found only by a scan must run from this folder's app (or --dir, or --tag of a master of the calling user), else only status shows it. --pid is taken as typed.`

/** How long a restart's wait lasts, and what ends it early: the restart commands' and `ctl wait`'s. */
export const waitFlags = {
  timeout: {
    kind: 'integer',
    summary: 'Seconds to wait for the restart to finish.',
    default: 300,
    min: 1,
    max: MAX_WAIT_SECONDS,
  },
  soak: {
    kind: 'integer',
    summary:
      'Seconds to keep watching after the restart is done: a new worker that dies meanwhile fails it (exit 5; 7 when the master exits). Default 0: off.',
    default: 0,
    min: 0,
    max: MAX_WAIT_SECONDS,
  },
  'stall-timeout': {
    kind: 'integer',
    summary:
      "Seconds without progress (no worker stopped, none booted) after which ctl gives up with exit 6, naming the stuck step: an old worker draining or a new one booting. Default, for a phased restart ctl sends: Puma's worker_shutdown_timeout + worker_boot_timeout + 15 s as its config sets them (105 s with Puma's defaults); none for a hot restart or ctl wait. 0: off.",
    min: 0,
    max: MAX_WAIT_SECONDS,
  },
} satisfies FlagSpecs

/** The wait's flags as the restart API takes them (milliseconds): the restart commands' and `ctl wait`'s. */
export function waitOptionsOf(flags: FlagValues<typeof afterRestartFlags & typeof ndjsonFlag & typeof waitFlags>) {
  return {
    timeoutMs: flags.timeout * 1000,
    soakMs: flags.soak * 1000,
    stallMs: flags['stall-timeout'] === undefined ? undefined : flags['stall-timeout'] * 1000,
    expectDir: flags['expect-dir'],
    healthUrl: flags['health-url'],
    healthTimeoutMs: flags['health-timeout'] * 1000,
    // An event stream also tells each old worker Puma begins to stop.
    tellStops: flags.ndjson,
  }
}

/** What a finished restart must also prove (exit 8 otherwise): the restart commands' and `ctl wait`'s. */
export const afterRestartFlags = {
  'expect-dir': {
    kind: 'string',
    summary:
      'After the restart, every new worker must run in the folder this points to (e.g. /app/current); exit 8 otherwise.',
    helpGroup: 'CHECKS',
  },
  'health-url': {
    kind: 'string',
    summary: 'After the restart, this URL must answer 2xx (retried until --health-timeout); exit 8 otherwise.',
    helpGroup: 'CHECKS',
  },
  'health-timeout': {
    kind: 'integer',
    summary: 'Seconds --health-url may take to answer 2xx.',
    default: 10,
    min: 1,
    max: MAX_WAIT_SECONDS,
    helpGroup: 'CHECKS',
  },
} satisfies FlagSpecs
