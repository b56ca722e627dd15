import {lstatSync, realpathSync, statSync} from 'node:fs'
import {basename, dirname, resolve, sep} from 'node:path'

/** What /proc/PID/cwd shows for a working folder that has since been removed (an old release). */
const DELETED = ' (deleted)'

/**
 * A folder as it is on disk now: symlinks resolved at the time of the call, so `/srv/app/current`
 * is the release it points to now. A master's folder read from /proc/PID/cwd that has since been
 * removed ("/srv/app/releases/1 (deleted)") keeps its path, without the suffix.
 */
export function physicalFolder(folder: string): string {
  const absolute = resolve(folder)
  try {
    return realpathSync(absolute)
  } catch {
    const kept = absolute.endsWith(DELETED) ? absolute.slice(0, -DELETED.length) : absolute
    try {
      return realpathSync(kept)
    } catch {
      return kept
    }
  }
}

/**
 * The app a folder belongs to, so that a file, a --dir and a master's working folder can be
 * compared although deploys move things about. Usually the folder itself (symlinks resolved). In a
 * Capistrano or Mina deploy (DEPLOY/releases/NAME, DEPLOY/current -> a release, DEPLOY/shared),
 * every release and `shared` belong to DEPLOY: a master started from `current` runs from the
 * release it then pointed to, and keeps running from it (even once deleted) after the next deploy
 * re-points `current`; its pidfile is in DEPLOY/shared/tmp/pids.
 */
export function appFolderOf(folder: string): string {
  const physical = physicalFolder(folder)
  const parent = dirname(physical)
  if (basename(parent) === 'releases' && isDeployRoot(dirname(parent))) return dirname(parent)
  if (basename(physical) === 'shared' && isDeployRoot(parent)) return parent
  return physical
}

/** A deploy root: `releases` beside a `current` symlink or a `shared` folder; a folder merely named `releases` is not one. */
function isDeployRoot(folder: string): boolean {
  return isFolder(`${folder}/releases`) && (isSymlink(`${folder}/current`) || isFolder(`${folder}/shared`))
}

/**
 * Folders whose `tmp` is the system's, not an app's: /tmp/puma.pid and /var/tmp/puma.pid belong to
 * no app.
 */
const SYSTEM_FOLDERS = new Set([`${sep}var`, sep])

/**
 * The app a pidfile or state file belongs to by where it is: the folder above its nearest `tmp`
 * (APP/tmp/pids/puma.pid, APP/tmp/puma.state, DEPLOY/shared/tmp/pids/puma.pid), as an app folder.
 * The path is taken as given (made absolute), not resolved: a `tmp/pids` that is a symlink into
 * another app's folder still puts the file in the app whose folder holds the link. Undefined for a
 * file in no app's tmp (/run/puma/app.pid of a systemd unit, /tmp/puma.pid).
 */
export function appFolderOfFile(file: string): string | undefined {
  const parts = resolve(file).split(sep)
  const tmp = parts.lastIndexOf('tmp', parts.length - 2)
  if (tmp === -1) return undefined
  const above = parts.slice(0, tmp).join(sep) || sep
  return SYSTEM_FOLDERS.has(above) ? undefined : appFolderOf(above)
}

/** Whether `path` is `folder` or inside it; nothing is inside the root folder (a master running from / has no app). */
export function isWithin(path: string, folder: string): boolean {
  return folder !== sep && (path === folder || path.startsWith(`${folder}${sep}`))
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}
