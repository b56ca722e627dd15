import {existsSync} from 'node:fs'
import {resolve} from 'node:path'

import {pumaAtLeast} from '../log/dialects.js'
import {configEnvironment, defaultConfigFiles, readPumaConfig} from '../target/puma-config.js'

/**
 * --stall-timeout's default for a phased restart, from Puma's own timeouts. Puma bounds each step
 * of a phased restart itself: an old worker drains for at most worker_shutdown_timeout before it is
 * killed, a new one boots within worker_boot_timeout or is killed (a failure ctl reports at once).
 * A restart that moves for longer than both together, plus Puma's own check interval, is stuck
 * where Puma's watchdogs do not reach (a blocked master): named sooner than the whole --timeout.
 * A hot restart loads the app in the master, which no timeout of Puma's bounds: no default there.
 */

/** Puma's timeouts as a config file sets them (seconds); absent: Puma's default. */
export interface PumaTimeouts {
  workerBootTimeout?: number
  workerShutdownTimeout?: number
  workerTimeout?: number
}

/** Puma's defaults (configuration.rb, 3.0 to 8.x). */
const DEFAULT_SECONDS = {boot: 60, shutdown: 30, worker: 60}

/** Puma checks its workers every 5 s; a kill, its reaping and the log line come after that. */
const SLACK_SECONDS = 15

export function defaultStallMs(timeouts: PumaTimeouts, version: string | undefined): number {
  const boot = timeouts.workerBootTimeout ?? DEFAULT_SECONDS.boot
  const worker = timeouts.workerTimeout ?? DEFAULT_SECONDS.worker
  // Before 5.0 a worker that has not booted is killed only once worker_timeout has passed as well.
  const bootBound = pumaAtLeast(version, '5.0.0') ? boot : Math.max(boot, worker)
  return (bootBound + (timeouts.workerShutdownTimeout ?? DEFAULT_SECONDS.shutdown) + SLACK_SECONDS) * 1000
}

/** What the master's title shows of the config it loaded: its binds, and its tag. */
export interface MasterShown {
  binds: readonly string[]
  tag?: string
}

/** Puma's bind without a config: port 9292 on every interface ('[::]' on Puma 8 where IPv6 is up). */
const DEFAULT_BINDS = ['tcp://0.0.0.0:9292']

const anyHost = (bind: string) => bind.replace(/^tcp:\/\/\[::]:/, 'tcp://0.0.0.0:')

/**
 * Whether the file read can be the config the master loaded: Puma's command line is gone from
 * /proc once it sets its title, so `puma -C shared/puma.rb` (capistrano3-puma's way) loads a file
 * ctl cannot see, while the release's own config/puma.rb says other timeouts. The binds and tag
 * in the title come from the config that was loaded: a file that would give others is not it.
 */
function fitsMaster(facts: {binds?: string[]; tag?: string}, shown: MasterShown): boolean {
  if (facts.tag !== undefined && shown.tag !== undefined && facts.tag !== shown.tag) return false
  if (shown.binds.length === 0) return true // no title (Puma 2.0–2.7): nothing to compare
  const expected = new Set((facts.binds ?? DEFAULT_BINDS).map((bind) => anyHost(bind)))
  const actual = new Set(shown.binds.map((bind) => anyHost(bind)))
  return expected.size === actual.size && [...actual].every((bind) => expected.has(bind))
}

/**
 * The timeouts of the config the master loaded, as far as ctl can see: `-F`, else Puma's first
 * default file in the master's folder for its environment (none: Puma's defaults). Undefined when
 * the file sets one in a way the static reading cannot evaluate (no Ruby runs for this), or when,
 * without `-F`, the file does not give the binds and tag the master's title shows (`shown`): then
 * the master loaded another config (`puma -C`, flags), whose timeouts may be longer.
 */
export async function readPumaTimeouts(
  folder: string,
  env: Readonly<Record<string, string | undefined>>,
  configFile?: string,
  shown?: MasterShown,
): Promise<PumaTimeouts | undefined> {
  // A release since deleted: its config cannot be read any more, so its timeouts are not known.
  if (!existsSync(folder)) return undefined
  const file =
    configFile ?? defaultConfigFiles(folder, configEnvironment(undefined, env)).find((path) => existsSync(path))
  const unseen = configFile === undefined && shown !== undefined
  if (file === undefined) return unseen && !fitsMaster({}, shown) ? undefined : {}
  try {
    const facts = await readPumaConfig(resolve(folder, file), {appFolder: folder}, {env})
    if (facts.unresolved.some((setting) => setting.startsWith('worker_') && setting.endsWith('timeout')))
      return undefined
    if (unseen && !fitsMaster(facts, shown)) return undefined
    const {workerBootTimeout, workerShutdownTimeout, workerTimeout} = facts
    const set = Object.entries({workerBootTimeout, workerShutdownTimeout, workerTimeout}).filter(
      ([, v]) => v !== undefined,
    )
    return Object.fromEntries(set) as PumaTimeouts
  } catch {
    return undefined // a config ctl may not read: no default, as before
  }
}
