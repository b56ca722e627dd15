import {dirname} from 'node:path'

/**
 * The rules for letting Ruby read a config file. A config file is code: whoever can write it, or
 * replace it through a folder above it, chooses what runs. So Ruby runs it only as its owner, and only
 * when nobody but the owner and root can change it. Group root (gid 0) counts as root: tarballs and
 * package managers often leave files group-writable by it.
 */

export interface FileOwnership {
  gid: number
  /** st_mode: the permission bits and the sticky bit are what count here. */
  mode: number
  uid: number
}

export type StatPath = (path: string) => Promise<FileOwnership>

/** Who Ruby runs as: ctl's own user, or the file's owner when ctl (as root) must drop to them. */
export type RunAs = {gid: number; kind: 'drop'; uid: number} | {kind: 'self'}

/** Whether `mode` has the permission bit `bit` (a power of two); arithmetic, as the house lint has no bitwise operators. */
const has = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1
const GROUP_WRITE = 0o20
const OTHER_WRITE = 0o2
const STICKY = 0o1000
const othersCanWrite = ({gid, mode}: FileOwnership) => has(mode, OTHER_WRITE) || (has(mode, GROUP_WRITE) && gid !== 0)

/**
 * Why the file must not be run, or undefined. `paths` are the file as named and its real path (they
 * differ through a symlink, whose folder can repoint it); `extraFolders` are folders whose code Ruby
 * loads as well (the Puma library), held to the same rule with the folders above them.
 */
export async function refusalToRun(
  paths: {file: string; real: string},
  stat: StatPath,
  euid: number,
  extraFolders: string[] = [],
): Promise<string | undefined> {
  const file = await stat(paths.real)
  if (othersCanWrite(file)) return 'the file is writable by its group or by everyone'
  const owner = file.uid
  if (euid !== 0 && owner !== euid && owner !== 0) {
    return `the file belongs to another user (uid ${owner}), and ctl runs as uid ${euid}, not root, so it cannot run it as its owner`
  }

  const trusted = new Set([0, owner])
  for (const folder of ancestors([paths.file, paths.real])) {
    // eslint-disable-next-line no-await-in-loop -- few folders, and the first unsafe one ends the check
    const why = folderRefusal(folder, await stat(folder), trusted)
    if (why) return why
  }

  for (const folder of [...extraFolders, ...ancestors(extraFolders)]) {
    // eslint-disable-next-line no-await-in-loop -- as above
    const why = folderRefusal(folder, await stat(folder), trusted)
    if (why) return `Puma's library: ${why}`
  }

  return undefined
}

function folderRefusal(folder: string, info: FileOwnership, trusted: Set<number>): string | undefined {
  if (!trusted.has(info.uid)) return `the folder ${folder} belongs to another user (uid ${info.uid})`
  // A sticky folder (like /tmp) lets others add files but not replace someone else's.
  if (othersCanWrite(info) && !has(info.mode, STICKY))
    return `the folder ${folder} is writable by its group or by everyone`
  return undefined
}

/** Every folder above each path, up to the root, once each. */
export function ancestors(paths: string[]): string[] {
  const folders = new Set<string>()
  for (const path of paths) {
    let folder = dirname(path)
    for (;;) {
      folders.add(folder)
      const parent = dirname(folder)
      if (parent === folder) break
      folder = parent
    }
  }

  return [...folders]
}

/** Root runs another user's file as that user; anyone else runs their own or root's file as themselves. */
export function runAsFor(owner: {gid: number; uid: number}, euid: number): RunAs {
  return euid === 0 && owner.uid !== 0 ? {gid: owner.gid, kind: 'drop', uid: owner.uid} : {kind: 'self'}
}
