import {existsSync} from 'node:fs'
import {realpath, stat} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {noMasterError, usageError} from '../errors.js'
import {formatTable} from '../text/table.js'
import {parsePid} from './pid.js'
import {readPidfile} from './pidfile.js'
import {listProcesses, type ProcessEntry, readCwd, startedAtOf} from './process-table.js'
import {findMasters, type PumaMaster} from './scan.js'
import {type TargetSelector} from './selector.js'
import {type PumaState, readStateFile} from './state-file.js'
import {type VerifyDeps, verifyMaster} from './verify.js'

/** Where ctl looks, in this order, when no target is given (shown in --help). */
export const DEFAULT_TARGET_FILES = [
  'tmp/pids/puma.state',
  'tmp/puma.state',
  'tmp/pids/puma.pid',
  'tmp/pids/server.pid',
  'tmp/puma.pid',
  'tmp/server.pid',
] as const

export interface Target {
  master: PumaMaster
  /** How the master was found, e.g. "pidfile tmp/pids/puma.pid" or "process scan". */
  origin: string
  state?: PumaState
}

export interface FindDeps extends VerifyDeps {
  cwdOf?: (pid: number) => Promise<string | undefined>
}

/** The master the selector names (its control server aside), verified: see index.ts for the checks. */
export async function findTarget(selector: TargetSelector, deps: FindDeps = {}): Promise<Target> {
  const cwd = selector.cwd ?? process.cwd()
  if (selector.pid !== undefined) return fromPid(parsePid(String(selector.pid), '--pid'), `--pid ${selector.pid}`, deps)
  if (selector.pidfile) return fromPidfile(resolve(cwd, selector.pidfile), selector.pidfile, deps)
  if (selector.state) return fromStateFile(resolve(cwd, selector.state), selector.state, deps)
  if (selector.dir === undefined && selector.tag === undefined) {
    const found = DEFAULT_TARGET_FILES.find((relative) => existsSync(join(cwd, relative)))
    if (found)
      return found.endsWith('.state')
        ? fromStateFile(join(cwd, found), found, deps)
        : fromPidfile(join(cwd, found), found, deps)
  }

  return fromScan(selector, cwd, deps)
}

async function fromPid(pid: number, origin: string, deps: FindDeps): Promise<Target> {
  return {master: await verifyMaster(pid, origin, deps), origin}
}

async function fromPidfile(path: string, shown: string, deps: FindDeps): Promise<Target> {
  const origin = `pidfile ${shown}`
  const master = await verifyMaster(await readPidfile(path, shown), origin, deps)
  await assertWrittenByIt(path, origin, master)
  return {master, origin}
}

async function fromStateFile(path: string, shown: string, deps: FindDeps): Promise<Target> {
  const origin = `state file ${shown}`
  const state = await readStateFile(path, shown)
  const master = await verifyMaster(state.pid, origin, deps)
  await assertWrittenByIt(path, origin, master)
  return {master, origin, state}
}

/** /proc's start times come from the boot time, which has one-second resolution. */
const START_TIME_SLACK_MS = 2000

/**
 * Puma writes its pidfile and state file after it has started (again at each hot restart, same
 * PID). A file older than the process was written by an earlier process whose PID has since been
 * reused: maybe by another app's Puma master, which would pass every other check.
 */
async function assertWrittenByIt(path: string, origin: string, {pid, startTicks}: PumaMaster): Promise<void> {
  const started = startTicks === undefined ? undefined : startedAtOf(startTicks).getTime()
  const written = (await stat(path)).mtimeMs
  if (started !== undefined && written + START_TIME_SLACK_MS < started) {
    throw noMasterError(
      `${origin} is stale: it was written ${new Date(written).toISOString()}, before pid ${pid} started (${new Date(started).toISOString()}), so that PID now belongs to another process`,
      {
        suggestion: 'remove the stale file, or pass --pid or --dir',
      },
    )
  }
}

async function fromScan(selector: TargetSelector, cwd: string, deps: FindDeps): Promise<Target> {
  const processes: ProcessEntry[] = await (deps.listProcesses ?? listProcesses)()
  const cwdOf = deps.cwdOf ?? (async (pid: number) => readCwd(pid))
  const wantedDir = selector.dir === undefined ? undefined : await realpathOrFail(resolve(cwd, selector.dir))
  const tagged = findMasters(processes).filter((master) => selector.tag === undefined || master.tag === selector.tag)
  const withFolders = await Promise.all(tagged.map(async (master) => ({...master, folder: await cwdOf(master.pid)})))
  const candidates = withFolders.filter((master) => wantedDir === undefined || master.folder === wantedDir)
  const narrowed = [selector.dir && `in ${selector.dir}`, selector.tag && `tagged ${selector.tag}`]
    .filter(Boolean)
    .join(' and ')
  if (candidates.length === 0) {
    throw noMasterError(`no Puma master is running${narrowed ? ` ${narrowed}` : ''}`, {
      suggestion: `ctl looked for ${DEFAULT_TARGET_FILES.join(', ')} under ${cwd}, then scanned the process table; pass --pidfile, --state or --pid`,
    })
  }

  // Several masters, but one runs from the folder ctl was started in: that is the app the user means.
  if (candidates.length > 1 && wantedDir === undefined && selector.tag === undefined) {
    const here = await realpath(cwd).catch(() => cwd)
    const local = candidates.filter((candidate) => candidate.folder === here)
    if (local.length === 1)
      return {
        master: await verifyMaster(local[0].pid, 'process scan', deps),
        origin: 'process scan (the master running from this folder)',
      }
  }

  if (candidates.length > 1) {
    throw noMasterError(`${candidates.length} Puma masters are running${narrowed ? ` ${narrowed}` : ''}: choose one`, {
      details: candidatesTable(candidates),
      suggestion: "pass --dir (the app's folder), --tag, --pidfile or --pid to choose",
      data: {candidates: candidates.map(({pid, version, tag, folder, binds}) => ({pid, version, tag, folder, binds}))},
    })
  }

  // Re-verify: the scan and the signal are moments apart, and the same checks must hold for every source.
  const [only] = candidates
  return {master: await verifyMaster(only.pid, 'process scan', deps), origin: 'process scan'}
}

async function realpathOrFail(path: string): Promise<string> {
  try {
    return await realpath(path)
  } catch {
    throw usageError(`--dir ${path} does not exist`)
  }
}

function candidatesTable(candidates: Array<PumaMaster & {folder?: string}>): string[] {
  const rows = [...candidates]
    .sort((a, b) => a.pid - b.pid)
    .map((c) => [String(c.pid), c.version ?? '<2.8', c.tag ?? '', c.folder ?? '?', c.binds.join(',')])
  return formatTable(['PID', 'VERSION', 'TAG', 'FOLDER', 'BINDS'], rows)
}
