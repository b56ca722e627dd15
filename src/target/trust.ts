import {lstatSync, readFileSync, readlinkSync, realpathSync, statSync} from 'node:fs'
import {basename, dirname, join, resolve, sep} from 'node:path'

import {noMasterError} from '../errors.js'
import {appFolderOf, appFolderOfFile, isWithin, physicalFolder} from './app-folder.js'
import {readCwd} from './process-table.js'
import {type PumaMaster} from './scan.js'

export interface TrustDeps {
  /** A process's working folder, as /proc/PID/cwd shows it; undefined when it cannot be read. */
  cwdOf?: (pid: number) => Promise<string | undefined>
  /** The calling user (default: process.geteuid()). */
  ownUid?: number
  /** The shell's way to the folder ctl runs in (default: $PWD), symlinks kept. */
  pwd?: string
  /** A process's (real) user; undefined when it cannot be read. */
  uidOf?: (pid: number) => number | undefined
}

/** A pidfile or state file that names a master. */
export interface NamingFile {
  /** The config file that named it (absolute, as given), when a config did rather than a flag. */
  namedBy?: string
  /** "pidfile tmp/pids/puma.pid", for messages. */
  origin: string
  /** Absolute, as given (not resolved). */
  path: string
  /** The state file's running_from: Puma's folder when it wrote the file, in the writer's word. */
  runningFrom?: string
}

/**
 * Who may name a master: a pidfile or state file is trusted only when it is consistent with the
 * master it names. Anyone can write a PID into a file, and a stale file's PID can be reused by
 * another app's master (a `touch` or a copy makes its mtime fresh); ctl would then stop another
 * user's app. So, after verifyMaster:
 *
 * 1. Owner: the file (and a symlink in its place) belongs to the master's user or to root. A user
 *    can only create files of their own, so another user's file cannot name a master.
 * 2. Folder: the master belongs to the app the file belongs to.
 *    - A file in an app's tmp (APP/tmp/pids/puma.pid, DEPLOY/shared/tmp/pids/puma.pid) belongs to
 *      that app: the master's folder must be APP (or, in a deploy, any release of DEPLOY).
 *    - A file in no app's tmp but inside the master's app (APP/puma.pid) is the master's.
 *    - Elsewhere (a systemd unit's /run/puma/app.pid, /tmp/…/app.pid) the file's place says
 *      nothing: ctl must run from the master's app (or --dir), a release of it or a folder inside
 *      it. Deploy hooks and ExecReload run from the app; from anywhere else, --pid names it.
 *    The master's folder is /proc/PID/cwd; when ctl cannot read it (another user's process, which
 *    the kernel will not let ctl signal either: exit 4 then), the state file's running_from, else
 *    nothing is checked.
 * 3. Config: a file a Puma config named (not a flag) is only as trusted as the config, which is code
 *    its writer chose: `state_path '/srv/b/tmp/pids/puma.state'`, `directory '/srv/b'` or a path
 *    through a symlink in app A would have root, running ctl in app A, stop app B. So the config (as
 *    given, not resolved) must be inside the master's app, or ctl run from that app.
 * Otherwise exit 3, saying why; --pid, typed knowingly, is never subject to these rules.
 */
export async function assertFileNamesIt(
  file: NamingFile,
  master: PumaMaster,
  here: string,
  deps: TrustDeps = {},
): Promise<void> {
  assertOwner(file, master.pid, deps)
  const folder = (await (deps.cwdOf ?? readCwdAsync)(master.pid)) ?? file.runningFrom
  if (folder === undefined) return
  const app = appFolderOf(folder)
  const fileApp = appFolderOfFile(file.path)
  const knowingly = `if you mean that master, pass --pid ${master.pid}`
  if (file.namedBy !== undefined && !isWithin(file.namedBy, app) && !runsFrom(here, app))
    throw noMasterError(
      `${file.origin}: pid ${master.pid} runs from ${folder}, an app that neither the config file nor ctl (in ${here}) is in`,
      {suggestion: `run ctl from the app's folder, or ${knowingly}`},
    )
  if (fileApp !== undefined) {
    if (fileApp === app) return
    throw noMasterError(`${file.origin} belongs to the app in ${fileApp}, but pid ${master.pid} runs from ${folder}`, {
      suggestion: knowingly,
    })
  }

  if (isWithin(file.path, app) || isWithin(physicalPath(file.path), app) || runsFrom(here, app)) return
  throw noMasterError(
    `${file.origin} is in no app's folder, and pid ${master.pid} runs from ${folder}, not from ${here}`,
    {suggestion: `run ctl from the app's folder, or ${knowingly}`},
  )
}

function assertOwner(file: NamingFile, pid: number, deps: TrustDeps): void {
  const masterUid = (deps.uidOf ?? uidOf)(pid)
  if (masterUid === undefined) return // /proc hidden (hidepid): the kernel's permission check remains
  for (const owner of ownersOf(file.path)) {
    if (owner !== 0 && owner !== masterUid)
      throw noMasterError(
        `${file.origin} is owned by ${userLabel(owner)}, but pid ${pid} runs as ${userLabel(masterUid)}: only the master's user or root may name it`,
        {suggestion: `if you mean that master, pass --pid ${pid}`},
      )
  }
}

/** The file's owner and, when the file is a symlink, the link's. */
function ownersOf(path: string): number[] {
  const link = lstatSync(path)
  return link.isSymbolicLink() ? [link.uid, statSync(path).uid] : [link.uid]
}

/**
 * A master found only by a process scan may be shown (`ctl status`) but not acted on unless
 * something names it: a file, --pid, --dir, or a scan from its own app (its folder, a release of
 * it, or a folder inside it). `cd ~ && ctl stop` must not stop whichever Puma happens to run.
 *
 * --tag names a master only as far as its title can be trusted, and a title is set by the process
 * itself: any user can start a Puma tagged like someone else's app. So --tag acts on a master of
 * the caller's own user (whose tag the caller's own user chose), or on one running from the folder
 * ctl runs from; for another user's master (root acting on an app's Puma), add --dir.
 */
export function assertScanMayAct(
  master: PumaMaster & {folder?: string},
  asked: {dir?: string; here: string; tag?: string},
  deps: TrustDeps = {},
): void {
  if (asked.dir) return assertLinksOnWay(asked.dir, `--dir ${asked.dir}`, master.pid, deps) // matched by the folder asked for
  const app = master.folder === undefined ? undefined : appFolderOf(master.folder)
  if (app !== undefined && runsFrom(asked.here, app)) return
  const runs = `it runs from ${master.folder ?? 'a folder ctl cannot read'}, not from ${asked.here}`
  const dirHint = master.folder === undefined ? '--dir' : `--dir ${master.folder}`
  if (asked.tag !== undefined) {
    const masterUid = (deps.uidOf ?? uidOf)(master.pid)
    if (masterUid !== undefined && masterUid === (deps.ownUid ?? process.geteuid?.())) return
    throw noMasterError(
      `refusing to act on pid ${master.pid}, tagged ${asked.tag}: ${runs}, as ${masterUid === undefined ? 'another user' : userLabel(masterUid)}, and any user can give a Puma that tag`,
      {suggestion: `add ${dirHint} to confirm it, or pass --pid ${master.pid}`},
    )
  }

  throw noMasterError(`refusing to act on pid ${master.pid}, found only by a process scan: ${runs}`, {
    suggestion: `name it: ${dirHint}, --tag, --pidfile, --state or --pid ${master.pid} (\`ctl status\` shows it)`,
  })
}

/**
 * The way ctl was pointed at a folder: --dir, or the shell's `cd` ($PWD, when it is the folder ctl
 * runs in). Symlinks are resolved, so whoever owns one on the way chooses the app: a `current` of app
 * A's user pointing at app B would have root, in A's `current`, stop B. As for a pidfile in a
 * symlink's place, each link must be the master's user's or root's (a deploy's `current` is its user's).
 */
function assertLinksOnWay(way: string, shown: string, pid: number, deps: TrustDeps): void {
  const masterUid = (deps.uidOf ?? uidOf)(pid)
  if (masterUid === undefined) return
  const foreign = symlinksOn(way).find(({uid}) => uid !== 0 && uid !== masterUid)
  if (foreign)
    throw noMasterError(
      `${shown} goes through a symlink owned by ${userLabel(foreign.uid)} (${foreign.link}), but pid ${pid} runs as ${userLabel(masterUid)}: only the master's user or root may point ctl at it`,
      {suggestion: `if you mean that master, use its real folder, or pass --pid ${pid}`},
    )
}

/** The shell's way to the folder ctl runs in, when $PWD still leads there (a `cd` through symlinks). */
export function assertWayHere(pwd: string | undefined, pid: number, deps: TrustDeps = {}): void {
  if (!pwd || pwd === process.cwd() || physicalFolder(pwd) !== process.cwd()) return
  assertLinksOnWay(pwd, `the folder ctl runs in (${pwd})`, pid, deps)
}

/** Every symlink met resolving `path` (links within links' targets too), with its owner. */
function symlinksOn(path: string, depth = 0): Array<{link: string; uid: number}> {
  const found: Array<{link: string; uid: number}> = []
  let current: string = sep
  for (const part of resolve(path).split(sep).filter(Boolean)) {
    const next = join(current, part)
    let info
    try {
      info = lstatSync(next)
    } catch {
      return found // the rest does not exist: nothing more to resolve
    }

    if (!info.isSymbolicLink() || depth > 40) {
      current = next
      continue
    }

    found.push({link: next, uid: info.uid}, ...symlinksOn(resolve(current, readlinkSync(next)), depth + 1))
    current = physicalFolder(next)
  }

  return found
}

/** Whether ctl, running from `here`, runs from the app `app`: its folder, a release of it, or a folder inside it. */
function runsFrom(here: string, app: string): boolean {
  return appFolderOf(here) === app || isWithin(physicalFolder(here), app)
}

async function readCwdAsync(pid: number): Promise<string | undefined> {
  return readCwd(pid)
}

/** A process's real user id, from /proc/PID/status. */
export function uidOf(pid: number): number | undefined {
  try {
    const uid = /^Uid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return uid ? Number(uid[1]) : undefined
  } catch {
    return undefined
  }
}

/** "deploy (uid 1001)", or "uid 1001" for a user /etc/passwd does not list. */
function userLabel(uid: number): string {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((entry) => entry.split(':')[2] === String(uid))
    const name = line?.split(':')[0]
    return name ? `${name} (uid ${uid})` : `uid ${uid}`
  } catch {
    return `uid ${uid}`
  }
}

/** The file's folder resolved, its own name kept (a symlink in its place is not followed). */
function physicalPath(path: string): string {
  try {
    return join(realpathSync(dirname(path)), basename(path))
  } catch {
    return path
  }
}
