import {open, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {type PumaStats, unsettled} from '../control/stats.js'
import {parseLine} from '../log/parse.js'
import {type PumaMaster} from '../target/scan.js'

/** How much of the log's end to read for the last banner: never the whole file. */
const TAIL_BYTES = 256 * 1024

export interface Preflight {
  mode: 'cluster' | 'single'
  /** false when Puma will turn a USR1 into a hot restart; undefined when ctl cannot tell. */
  phasedAvailable?: boolean
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
  sources: {folder?: string; logPaths: string[]; master?: PumaMaster; stats?: PumaStats; statsLater?: PumaStats},
  kind: 'hot' | 'phased',
): Promise<Preflight> {
  const {master, stats} = sources
  const workers = master?.workers ?? stats?.workerStatus.map(({index, pid}) => ({index, pid})) ?? []
  const mode = master ? (master.workers.length > 0 ? 'cluster' : 'single') : (stats?.mode ?? 'cluster')
  const phasedAvailable = mode === 'single' ? false : await phasedFromFiles(sources)

  const warnings: string[] = []
  const inProgress = stats && unsettled(stats, sources.statsLater)
  if (inProgress) warnings.push(inProgress)
  if (kind === 'phased' && phasedAvailable === false) {
    warnings.push(
      mode === 'single'
        ? 'Puma runs in single mode, where a phased restart is not available: it will do a hot restart (the server is briefly unavailable)'
        : 'Puma preloads the app (preload_app!, the default with several workers since Puma 7), so a phased restart is not available: it will do a hot restart, replacing all workers at once. For phased restarts set `preload_app! false`',
    )
  }

  return {mode, workers, phasedAvailable, warnings}
}

/** What the logs' last banners, else the default config files, say of phased restarts: the first that tells. */
async function phasedFromFiles({
  folder,
  logPaths,
}: {
  folder?: string
  logPaths: string[]
}): Promise<boolean | undefined> {
  const looks = [
    ...logPaths.map((path) => () => lastBannerSays(path)),
    ...(folder ? DEFAULT_CONFIGS.map((config) => () => configSays(join(folder, config))) : []),
  ]
  return firstTold(looks)
}

/** One look after the other, and none once one has told. */
async function firstTold(looks: Array<() => Promise<boolean | undefined>>): Promise<boolean | undefined> {
  const [look, ...rest] = looks
  if (!look) return undefined
  return (await look()) ?? firstTold(rest)
}

async function lastBannerSays(path: string): Promise<boolean | undefined> {
  let text: string
  try {
    const file = await open(path, 'r')
    try {
      const {size} = await file.stat()
      const start = Math.max(0, size - TAIL_BYTES)
      const buffer = Buffer.alloc(size - start)
      await file.read(buffer, 0, buffer.length, start)
      text = buffer.toString('utf8')
    } finally {
      await file.close()
    }
  } catch {
    return undefined
  }

  let verdict: boolean | undefined
  for (const line of text.split('\n')) {
    const event = parseLine(line)
    if (event.kind === 'banner-start') verdict = undefined // a newer banner overrides what an older one said
    if (event.kind === 'banner-restarts') verdict = event.phased
    if (event.kind === 'preloading') verdict = false
  }

  return verdict
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
