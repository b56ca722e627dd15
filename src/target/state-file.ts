import {type CtlError, noMasterError} from '../errors.js'
import {parsePid} from './pid.js'
import {NotSmallRegularFile, readSmallRegularFile} from './regular-file.js'

export interface PumaState {
  controlAuthToken?: string
  controlUrl?: string
  /** The file it was read from (readStateFile): Puma rewrites it at each boot, with a new token unless the config pins it. */
  path?: string
  pid: number
  runningFrom?: string
}

/**
 * Reads Puma's state file as text, never as YAML: 2.x files hold a `!ruby/object:Puma::Configuration`
 * that YAML loaders refuse (with the control keys as `:control_url:` symbols), 3.x–5.5 are YAML.dump
 * output and 5.6+ are hand-written `key: value` lines.
 */
export function parseStateFile(text: string, path = 'state file'): PumaState {
  const values = new Map<string, string>()
  for (const rawLine of text.split(/\r?\n/)) {
    const match = /^\s*:?(pid|control_url|control_auth_token|running_from):[ \t]*(.*)$/.exec(rawLine)
    // The first occurrence wins: in 2.x files the top-level pid comes before the nested config.
    if (match && !values.has(match[1])) values.set(match[1], unquote(match[2]))
  }

  const pid = values.get('pid')
  if (pid === undefined || pid === '') {
    throw noMasterError(`invalid state file ${path}: it has no pid`, {
      suggestion: 'pass --pidfile or --pid instead, or restart Puma with state_path set so it rewrites the file',
    })
  }

  return {
    pid: parsePid(pid, `state file ${path}`),
    controlUrl: values.get('control_url') || undefined,
    controlAuthToken: values.get('control_auth_token') || undefined,
    runningFrom: values.get('running_from') || undefined,
  }
}

function unquote(value: string): string {
  const trimmed = value.trim()
  if (trimmed.length >= 2 && (trimmed.startsWith('"') || trimmed.startsWith("'")) && trimmed.endsWith(trimmed[0])) {
    const inner = trimmed.slice(1, -1)
    return trimmed[0] === '"' ? inner.replaceAll(/\\(["\\])/g, '$1') : inner.replaceAll("''", "'")
  }

  return trimmed
}

/** `shown` is the path as the user gave it, for messages. */
export async function readStateFile(path: string, shown = path): Promise<PumaState> {
  return {...parseStateFile(await readTargetFile(path, `state file ${shown}`), shown), path}
}

const UTF8 = new TextDecoder('utf8', {fatal: true})

/** A state file is a few hundred bytes, a pidfile a few: anything larger is some other file. */
const MAX_TARGET_FILE_BYTES = 64 * 1024

/**
 * Reads a pidfile or state file (`what` names it as the user gave it), turning "missing" and
 * "unreadable" into clear exit-3/4 errors. Only a regular file of a sane size is read
 * (regular-file.ts): a symlink to /dev/zero would never end, and a FIFO would wait for a writer.
 */
export async function readTargetFile(path: string, what: string): Promise<string> {
  let bytes: Buffer
  try {
    bytes = await readSmallRegularFile(path, MAX_TARGET_FILE_BYTES)
  } catch (error) {
    if (!(error instanceof NotSmallRegularFile)) throw unreadable(error as NodeJS.ErrnoException, what)
    if (error.code === 'EISDIR') throw noMasterError(`${what} is a directory`)
    if (error.code === 'ENOTREG') throw noMasterError(`${what} is not a regular file`)
    throw noMasterError(`${what} is not one: it holds ${error.size} bytes (not shown)`, {
      suggestion: 'check which file you passed',
    })
  }

  try {
    return UTF8.decode(bytes)
  } catch {
    throw noMasterError(`${what} is not one: it is a binary file (${bytes.length} bytes, not shown)`, {
      suggestion: 'check which file you passed',
    })
  }
}

function unreadable(error: NodeJS.ErrnoException, what: string): CtlError {
  if (error.code === 'ENOENT' || error.code === 'ENOTDIR')
    return noMasterError(`${what} does not exist`, {
      suggestion: 'is Puma running, and from this folder? pass --pidfile, --state or --pid',
    })
  if (error.code === 'EACCES')
    return noMasterError(`cannot read ${what}: permission denied`, {suggestion: "run as the server's user"})
  return noMasterError(`cannot read ${what}: ${error.code ?? error.message}`)
}
