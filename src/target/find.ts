import {existsSync} from 'node:fs'
import {realpath, stat} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {noMasterError, usageError} from '../errors.js'
import {formatTable} from '../text/table.js'
import {appFolderOf, physicalFolder} from './app-folder.js'
import {withConfig} from './config-target.js'
import {DEFAULT_TARGET_FILES} from './default-files.js'
import {liveness, startTicks} from './liveness.js'
import {parsePid} from './pid.js'
import {readPidfile} from './pidfile.js'
import {listProcesses, type ProcessEntry, readCwd, startedAtOf} from './process-table.js'
import {findMasters, type PumaMaster} from './scan.js'
import {type TargetSelector} from './selector.js'
import {type PumaState, readStateFile} from './state-file.js'
import {assertFileNamesIt, assertScanMayAct, assertWayHere, type NamingFile, type TrustDeps} from './trust.js'
import {type VerifyDeps, verifyMaster} from './verify.js'

export {DEFAULT_TARGET_FILES} from './default-files.js'

export interface Target {
  master: PumaMaster
  /** How the master was found, e.g. "pidfile tmp/pids/puma.pid" or "process scan". */
  origin: string
  state?: PumaState
  /** What the user should know about how it was found (a stale default file passed over). */
  warnings?: string[]
}

export interface FindDeps extends TrustDeps, VerifyDeps {}

/** The master the selector names (its control server aside), verified: see index.ts for the checks. */
export async function findTarget(given: TargetSelector, deps: FindDeps = {}): Promise<Target> {
  const selector = await withConfig(given)
  const target = await fromSelector(selector, deps)
  // Files and scans found from where ctl runs: the way there must not be another user's choice.
  const fromHere = selector.pid === undefined && selector.dir === undefined && selector.cwd === undefined
  if (fromHere && (selector.intent ?? 'act') === 'act')
    assertWayHere(deps.pwd ?? process.env.PWD, target.master.pid, deps)
  return target
}

async function fromSelector(selector: TargetSelector, deps: FindDeps): Promise<Target> {
  const cwd = selector.cwd ?? process.cwd()
  if (selector.pid !== undefined) return fromPid(parsePid(String(selector.pid), '--pid'), `--pid ${selector.pid}`, deps)
  const here = physicalFolder(selector.dir === undefined ? cwd : resolve(cwd, selector.dir))
  const from = selector.namedByConfig ? ` (named by ${selector.configOrigin})` : ''
  const namedBy = selector.namedByConfig
  if (selector.pidfile) {
    const file = await readNamingFile(resolve(cwd, selector.pidfile), selector.pidfile + from, 'pidfile')
    return fromFile({...file, namedBy}, here, deps)
  }

  if (selector.state) {
    const file = await readNamingFile(resolve(cwd, selector.state), selector.state + from, 'state file')
    return fromFile({...file, namedBy}, here, deps)
  }

  if (selector.dir === undefined && selector.tag === undefined) {
    const found = DEFAULT_TARGET_FILES.filter((relative) => existsSync(join(cwd, relative)))
    if (found.length > 0) return fromDefaultFiles(found, cwd, here, deps)
  }

  return fromScan(selector, cwd, deps)
}

async function fromPid(pid: number, origin: string, deps: FindDeps): Promise<Target> {
  return {master: await verifyMaster(pid, origin, deps), origin}
}

/** A pidfile or state file, read: the PID it names and, for a state file, the rest of it. */
interface ReadFile extends NamingFile {
  pid: number
  state?: PumaState
}

type FileKind = 'pidfile' | 'state file'

async function readNamingFile(path: string, shown: string, kind: FileKind): Promise<ReadFile> {
  const origin = `${kind} ${shown}`
  if (kind === 'pidfile') return {path, origin, pid: await readPidfile(path, shown)}
  const state = await readStateFile(path, shown)
  return {path, origin, pid: state.pid, state, runningFrom: state.runningFrom}
}

async function fromFile(file: ReadFile, here: string, deps: FindDeps): Promise<Target> {
  const master = await verifyMaster(file.pid, file.origin, deps)
  await assertWrittenByIt(file.path, file.origin, master)
  await assertFileNamesIt(file, master, here, deps)
  return file.state ? {master, origin: file.origin, state: file.state} : {master, origin: file.origin}
}

/**
 * The first default file whose PID is still the process that wrote it. A stale one (its PID not
 * running, or since reused) is passed over, with a warning: a crashed Puma leaves
 * tmp/pids/puma.state behind, beside the pidfile of the one running now. When all are stale, the
 * first one's error says so. Explicit --pidfile and --state are taken as given.
 */
async function fromDefaultFiles(found: string[], cwd: string, here: string, deps: FindDeps): Promise<Target> {
  const files: ReadFile[] = []
  const passed: string[] = []
  for (const relative of found) {
    const kind = relative.endsWith('.state') ? 'state file' : 'pidfile'
    // eslint-disable-next-line no-await-in-loop -- in order: the first live one wins, and a later one may not be read
    const file = await readNamingFile(join(cwd, relative), relative, kind)
    files.push(file)
    // eslint-disable-next-line no-await-in-loop -- as above
    const stale = await staleness(file, deps)
    if (!stale) {
      // eslint-disable-next-line no-await-in-loop -- the loop ends here
      const target = await fromFile(file, here, deps)
      return passed.length > 0 ? {...target, warnings: passed.map((note) => `${note}: used ${relative}`)} : target
    }

    passed.push(`${relative} names pid ${file.pid}, which ${stale}`)
  }

  return fromFile(files[0], here, deps)
}

/** Why a file's PID is not the process that wrote it, if it is not: gone, or started after the file was written. */
async function staleness(file: ReadFile, deps: FindDeps): Promise<string | undefined> {
  if (liveness(file.pid, deps.kill) === 'gone') return 'is not running'
  return (await writtenBefore(file.path, startTicks(file.pid)))
    ? 'now belongs to a process started after the file was written'
    : undefined
}

/** /proc's start times come from the boot time, which has one-second resolution. */
const START_TIME_SLACK_MS = 2000

/**
 * Puma writes its pidfile and state file after it has started (again at each hot restart, same
 * PID). A file older than the process was written by an earlier process whose PID has since been
 * reused: maybe by another app's Puma master, which would pass every other check.
 */
async function assertWrittenByIt(path: string, origin: string, {pid, startTicks}: PumaMaster): Promise<void> {
  const older = await writtenBefore(path, startTicks)
  if (older) {
    throw noMasterError(
      `${origin} is stale: it was written ${new Date(older.written).toISOString()}, before pid ${pid} started (${new Date(older.started).toISOString()}), so that PID now belongs to another process`,
      {
        suggestion: 'remove the stale file, or pass --pid or --dir',
      },
    )
  }
}

/** When the file was written and the process (by its start time) started, if the file is the older. */
async function writtenBefore(
  path: string,
  ticks: number | undefined,
): Promise<undefined | {started: number; written: number}> {
  if (ticks === undefined) return undefined
  const started = startedAtOf(ticks).getTime()
  const written = (await stat(path)).mtimeMs
  return written + START_TIME_SLACK_MS < started ? {started, written} : undefined
}

async function fromScan(selector: TargetSelector, cwd: string, deps: FindDeps): Promise<Target> {
  const processes: ProcessEntry[] = await (deps.listProcesses ?? listProcesses)()
  const cwdOf = deps.cwdOf ?? (async (pid: number) => readCwd(pid))
  const wantedDir = selector.dir === undefined ? undefined : await realpathOrFail(resolve(cwd, selector.dir))
  const tagged = findMasters(processes).filter((master) => selector.tag === undefined || master.tag === selector.tag)
  const withFolders = await Promise.all(tagged.map(async (master) => ({...master, folder: await cwdOf(master.pid)})))
  const candidates = wantedDir === undefined ? withFolders : runningFrom(withFolders, wantedDir)
  const narrowed = [selector.dir && `in ${selector.dir}`, selector.tag && `tagged ${selector.tag}`]
    .filter(Boolean)
    .join(' and ')
  if (candidates.length === 0) {
    throw noMasterError(`no Puma master is running${narrowed ? ` ${narrowed}` : ''}`, {
      suggestion: `ctl looked for ${DEFAULT_TARGET_FILES.join(', ')} under ${cwd}, then scanned the process table; pass --pidfile, --state or --pid`,
    })
  }

  const here = physicalFolder(cwd)
  // Several masters, but one runs from the folder ctl was started in: that is the app the user means.
  const local =
    candidates.length > 1 && wantedDir === undefined && selector.tag === undefined ? runningFrom(candidates, here) : []
  if (candidates.length > 1 && local.length !== 1) {
    throw noMasterError(`${candidates.length} Puma masters are running${narrowed ? ` ${narrowed}` : ''}: choose one`, {
      details: candidatesTable(candidates),
      suggestion: "pass --dir (the app's folder), --tag, --pidfile or --pid to choose",
      data: {candidates: candidates.map(({pid, version, tag, folder, binds}) => ({pid, version, tag, folder, binds}))},
    })
  }

  const [chosen] = local.length === 1 ? local : candidates
  // Re-verify: the scan and the signal are moments apart, and the same checks must hold for every source.
  const master = await verifyMaster(chosen.pid, 'process scan', deps)
  if (selector.intent !== 'look')
    assertScanMayAct(
      {...master, folder: chosen.folder},
      {dir: selector.dir && resolve(cwd, selector.dir), tag: selector.tag, here},
      deps,
    )
  return {master, origin: local.length === 1 ? 'process scan (the master running from this folder)' : 'process scan'}
}

/**
 * The masters running from `folder` (symlinks resolved on both sides, now), else from another
 * release of its deploy: `--dir /srv/app/current` still finds the master started from the
 * release `current` pointed to before the last deploy.
 */
function runningFrom<M extends {folder?: string}>(candidates: M[], folder: string): M[] {
  const from = (match: (physical: string) => boolean) =>
    candidates.filter((candidate) => candidate.folder !== undefined && match(physicalFolder(candidate.folder)))
  const exact = from((physical) => physical === folder)
  if (exact.length > 0) return exact
  const app = appFolderOf(folder)
  return from((physical) => appFolderOf(physical) === app)
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
