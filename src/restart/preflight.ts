import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {type PumaStats, unsettled} from '../control/stats.js'
import {usageError} from '../errors.js'
import {pumaAtLeast} from '../log/dialects.js'
import {messageAnywhere, parseLine} from '../log/parse.js'
import {readLogWindow, tail} from '../log/window.js'
import {type PumaMaster} from '../target/scan.js'

/** How much of the log's end to read for the last banner: never the whole file. */
const TAIL_BYTES = 256 * 1024

export interface Preflight {
  /**
   * false when the log's tail shows Puma's lines but none with the master's `[pid] ` prefix (a
   * log_formatter without the PID): nothing in it can be told from app output.
   */
  logAttributable: boolean
  mode: 'cluster' | 'single'
  /** false when Puma will turn a USR1 into a hot restart; undefined when ctl cannot tell. */
  phasedAvailable?: boolean
  /** The last banner's refork mark (Puma 6.6.1+): false without fork_worker; undefined when ctl cannot tell. */
  reforkAvailable?: boolean
  warnings: string[]
  /** The workers before the signal: index and PID. */
  workers: Array<{index?: number; pid: number}>
}

/** Puma's default config files, relative to the app folder (where the master runs). */
const DEFAULT_CONFIGS = ['config/puma.rb', 'config/puma/production.rb']

/**
 * What ctl can tell before signalling, from the process table, the last banner in the log's tail
 * (5.1+ prints "Restarts: (✔) hot (✖) phased", 2.2–5.0 "* Preloading application") and, failing
 * that, the default config file. With stdout_redirect the first banner goes to the console, not
 * the log, and a config given with -C is not visible: then this says nothing, and the wait still
 * follows what Puma does.
 */
export async function preflight(
  sources: {
    folder?: string
    logPaths: string[]
    master?: PumaMaster
    /** The master's children now, from /proc: fork_worker's workers 1.. are worker 0's children instead. */
    masterChildren?: number[]
    stats?: PumaStats
    statsLater?: PumaStats
  },
  kind: 'hot' | 'phased' | 'refork',
): Promise<Preflight> {
  const {master, stats} = sources
  const workers = master?.workers ?? stats?.workerStatus.map(({index, pid}) => ({index, pid})) ?? []
  const mode = master ? (master.workers.length > 0 ? 'cluster' : 'single') : (stats?.mode ?? 'cluster')
  const banner = master ? await lastBanner(sources.logPaths, master) : {}
  const phasedAvailable = mode === 'single' ? false : (banner.phased ?? (await phasedFromFiles(sources)))
  if (kind === 'refork') refuseImpossibleRefork(mode, noForkWorker(banner, master, sources.masterChildren), master)

  const warnings: string[] = []
  const inProgress = stats && unsettled(stats, sources.statsLater)
  if (inProgress) warnings.push(inProgress)
  warnings.push(...preloadWarnings(kind, mode, phasedAvailable, master))
  const logAttributable = mode === 'single' || !banner.unprefixed
  return {mode, workers, phasedAvailable, reforkAvailable: banner.refork, warnings, logAttributable}
}

/** What a USR1 will really do, when it is not a phased restart (or may not be). */
function preloadWarnings(
  kind: 'hot' | 'phased' | 'refork',
  mode: 'cluster' | 'single',
  phasedAvailable: boolean | undefined,
  master: PumaMaster | undefined,
): string[] {
  if (kind !== 'phased') return []
  if (phasedAvailable === false) {
    return [
      mode === 'single'
        ? 'Puma runs in single mode, where a phased restart is not available: it will do a hot restart (the server is briefly unavailable)'
        : 'Puma preloads the app (preload_app!, the default with several workers since Puma 7), so a phased restart is not available: it will do a hot restart, replacing all workers at once. For phased restarts set `preload_app! false`',
    ]
  }

  if (phasedAvailable === undefined && preloadsByDefault(master)) {
    return [
      `Puma ${master!.version} preloads the app by default with several workers (since Puma 7), and neither its banner nor its config says otherwise: unless the config says \`preload_app! false\`, this is a hot restart (all workers at once; a release that fails to load takes the master down)`,
    ]
  }

  return []
}

/** Puma 7.0+ turns on preload_app! whenever there are 2+ workers, unless the config turns it off. */
export function preloadsByDefault(master: PumaMaster | undefined): boolean {
  return pumaAtLeast(master?.version, '7.0.0') && (master?.workers.length ?? 0) >= 2
}

/**
 * Why ctl knows fork_worker is off, if it does: the 6.6.1+ banner's "(✖) refork", or the process
 * tree. With fork_worker Puma forks workers 1.. from worker 0 (at boot and at each refork), so two
 * or more workers that are all the master's own children mean it is off. One worker, or no /proc: no telling.
 */
function noForkWorker(
  banner: Banner,
  master: PumaMaster | undefined,
  children: number[] | undefined,
): string | undefined {
  if (banner.refork === false) return `Puma's last banner says "(✖) refork"`
  if (banner.refork || !master || !children || master.workers.length < 2) return undefined
  if (master.workers.every((worker) => children.includes(worker.pid)))
    return "every worker is the master's own child, none forked from worker 0"
  return undefined
}

/**
 * A refork Puma says it cannot do is refused before anything is sent: single mode, a Puma older
 * than fork_worker (5.0), or no fork_worker (the 6.6.1+ banner's "(✖) refork", or the process
 * tree). Without such evidence ctl signals and waits.
 */
function refuseImpossibleRefork(
  mode: 'cluster' | 'single',
  noForkWorker: string | undefined,
  master?: PumaMaster,
): void {
  const who = master === undefined ? 'Puma' : `pid ${master.pid}`
  const version = master?.version
  if (mode === 'single') {
    throw usageError(`refusing: ${who} runs in single mode (no workers), where refork does not exist`, {
      suggestion: 'refork needs cluster mode (workers 2 or more) and fork_worker in the config',
    })
  }

  if (version && !pumaAtLeast(version, '5.0.0')) {
    throw usageError(`refusing: ${who} runs Puma ${version}, which has no refork (fork_worker came in Puma 5.0)`, {
      suggestion: 'upgrade Puma to 5.0 or later and set fork_worker in the config, or use phased-restart',
    })
  }

  if (noForkWorker !== undefined) {
    throw usageError(`refusing: fork_worker is not configured (${noForkWorker}), so Puma would ignore the refork`, {
      suggestion: 'add fork_worker to the config and restart Puma (hot restart), or use phased-restart',
    })
  }
}

/** What the default config files say of phased restarts: the first that tells. */
async function phasedFromFiles({folder}: {folder?: string}): Promise<boolean | undefined> {
  return firstTold(folder ? DEFAULT_CONFIGS.map((config) => () => configSays(join(folder, config))) : [])
}

/** What the master's last banner in the first log that shows one says of phased restarts, or that the log has no prefixes. */
async function lastBanner(logPaths: string[], master: PumaMaster): Promise<Banner> {
  for (const path of logPaths) {
    // eslint-disable-next-line no-await-in-loop -- one log after the other, and none once one has told
    const banner = await bannerIn(path, master)
    if (banner.phased !== undefined || banner.unprefixed) return banner
  }

  return {}
}

/**
 * `unprefixed`: the log holds boot lines of the master's current workers (by their PIDs) without
 * its prefix, and no line with it: a log_formatter without the PID.
 */
type Banner = {phased?: boolean; refork?: boolean; unprefixed?: boolean}

/** One look after the other, and none once one has told. */
async function firstTold(looks: Array<() => Promise<boolean | undefined>>): Promise<boolean | undefined> {
  const [look, ...rest] = looks
  if (!look) return undefined
  return (await look()) ?? firstTold(rest)
}

async function bannerIn(path: string, master: PumaMaster): Promise<Banner> {
  let text: string
  try {
    const window = await readLogWindow(path, tail(TAIL_BYTES))
    if (!window) return {}
    text = window.bytes.toString('utf8')
  } catch {
    return {}
  }

  // Only the master's own lines: a banner is worth nothing that the app (or an older master) printed.
  let banner: Banner = {}
  let masterLines = 0
  let unprefixedBoots = 0
  const workerPids = new Set(master.workers.map((worker) => worker.pid))
  for (const line of text.split('\n')) {
    const event = parseLine(line)
    if (event.prefixPid !== master.pid) {
      const message = event.prefixPid === undefined && line.includes(' booted') ? messageAnywhere(line) : undefined
      if (message?.kind === 'worker-booted' && workerPids.has(message.workerPid)) unprefixedBoots++
      continue
    }

    masterLines++
    if (event.kind === 'banner-start') banner = {} // a newer banner overrides what an older one said
    if (event.kind === 'banner-restarts') {
      banner.phased = event.phased
      banner.refork = event.refork
    }

    if (event.kind === 'preloading') banner.phased = false
  }

  return masterLines === 0 && unprefixedBoots > 0 ? {...banner, unprefixed: true} : banner
}

/** `preload_app!` (or `preload_app! true`) in a config file means no phased restarts. */
async function configSays(path: string): Promise<boolean | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }

  const setting = [...text.matchAll(/^\s*preload_app!?(?:\s*\(?\s*(true|false)\s*\)?)?\s*(?:#.*)?$/gm)].at(-1)
  return setting ? setting[1] === 'false' : undefined
}
