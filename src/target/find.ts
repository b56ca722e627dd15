import {access, realpath, stat} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {noMasterError, usageError} from '../errors.js'
import {formatTable} from '../text/table.js'
import {parsePid} from './pid.js'
import {readPidfile} from './pidfile.js'
import {listProcesses, type ProcessEntry, readCwd, startedAtOf} from './process-table.js'
import {findMasters, type PumaMaster} from './scan.js'
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

/** The ways to name a master (the target flags). */
export const TARGET_OPTIONS = ['pid', 'pidfile', 'state', 'dir', 'tag'] as const

export type TargetOptions = {
  /** Where relative paths and the default files are resolved from. */
  cwd?: string
} & {[K in (typeof TARGET_OPTIONS)[number]]?: string}

export interface Target {
  master: PumaMaster
  /** How the master was found, e.g. "pidfile tmp/pids/puma.pid" or "process scan". */
  origin: string
  state?: PumaState
}

export interface FindDeps extends VerifyDeps {
  cwdOf?: (pid: number) => Promise<string | undefined>
}

export async function findTarget(options: TargetOptions, deps: FindDeps = {}): Promise<Target> {
  const cwd = options.cwd ?? process.cwd()
  if (options.pid !== undefined) return fromPid(parsePid(options.pid, '--pid'), `--pid ${options.pid}`, deps)
  if (options.pidfile) return fromPidfile(resolve(cwd, options.pidfile), options.pidfile, deps)
  if (options.state) return fromStateFile(resolve(cwd, options.state), options.state, deps)
  if (options.dir === undefined && options.tag === undefined) {
    const found = await firstExisting(cwd)
    if (found)
      return found.endsWith('.state')
        ? fromStateFile(join(cwd, found), found, deps)
        : fromPidfile(join(cwd, found), found, deps)
  }

  return fromScan(options, cwd, deps)
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

async function firstExisting(cwd: string): Promise<string | undefined> {
  for (const relative of DEFAULT_TARGET_FILES) {
    try {
      await access(join(cwd, relative))
      return relative
    } catch {}
  }

  return undefined
}

async function fromScan(options: TargetOptions, cwd: string, deps: FindDeps): Promise<Target> {
  const processes: ProcessEntry[] = await (deps.listProcesses ?? listProcesses)()
  const cwdOf = deps.cwdOf ?? (async (pid: number) => readCwd(pid))
  const wantedDir = options.dir === undefined ? undefined : await realpathOrFail(resolve(cwd, options.dir))
  const candidates: Array<PumaMaster & {folder?: string}> = []
  for (const master of findMasters(processes)) {
    const folder = await cwdOf(master.pid)
    if (wantedDir !== undefined && folder !== wantedDir) continue
    if (options.tag !== undefined && master.tag !== options.tag) continue
    candidates.push({...master, folder})
  }

  const narrowed = [options.dir && `in ${options.dir}`, options.tag && `tagged ${options.tag}`]
    .filter(Boolean)
    .join(' and ')
  if (candidates.length === 0) {
    throw noMasterError(`no Puma master is running${narrowed ? ` ${narrowed}` : ''}`, {
      suggestion: `ctl looked for ${DEFAULT_TARGET_FILES.join(', ')} under ${cwd}, then scanned the process table; pass --pidfile, --state or --pid`,
    })
  }

  // Several masters, but one runs from the folder ctl was started in: that is the app the user means.
  if (candidates.length > 1 && wantedDir === undefined && options.tag === undefined) {
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
  const rows = candidates.map((c) => [
    String(c.pid),
    c.version ?? '<2.8',
    c.tag ?? '',
    c.folder ?? '?',
    c.binds.join(','),
  ])
  return formatTable(['PID', 'VERSION', 'TAG', 'FOLDER', 'BINDS'], rows)
}
