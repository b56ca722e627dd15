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

/**
 * The timeouts of the config the master loaded, as far as ctl can see: `-F`, else Puma's first
 * default file in the master's folder for its environment (none: Puma's defaults). Undefined when
 * the file sets one in a way the static reading cannot evaluate (no Ruby runs for this).
 */
export async function readPumaTimeouts(
  folder: string,
  env: Readonly<Record<string, string | undefined>>,
  configFile?: string,
): Promise<PumaTimeouts | undefined> {
  // A release since deleted: its config cannot be read any more, so its timeouts are not known.
  if (!existsSync(folder)) return undefined
  const file =
    configFile ?? defaultConfigFiles(folder, configEnvironment(undefined, env)).find((path) => existsSync(path))
  if (file === undefined) return {}
  try {
    const facts = await readPumaConfig(resolve(folder, file), {appFolder: folder}, {env})
    if (facts.unresolved.some((setting) => setting.startsWith('worker_') && setting.endsWith('timeout')))
      return undefined
    const {workerBootTimeout, workerShutdownTimeout, workerTimeout} = facts
    const set = Object.entries({workerBootTimeout, workerShutdownTimeout, workerTimeout}).filter(
      ([, v]) => v !== undefined,
    )
    return Object.fromEntries(set) as PumaTimeouts
  } catch {
    return undefined // a config ctl may not read: no default, as before
  }
}
