import {readFile} from 'node:fs/promises'

import {noMasterError} from '../errors.js'
import {parsePid} from './pid.js'

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

/** Reads a pidfile or state file (`what` names it as the user gave it), turning "missing" and "unreadable" into clear exit-3/4 errors. */
export async function readTargetFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    const {code} = error as NodeJS.ErrnoException
    if (code === 'ENOENT')
      throw noMasterError(`${what} does not exist`, {
        suggestion: 'is Puma running, and from this folder? pass --pidfile, --state or --pid',
      })
    if (code === 'EISDIR') throw noMasterError(`${what} is a directory`)
    if (code === 'EACCES')
      throw noMasterError(`cannot read ${what}: permission denied`, {suggestion: "run as the server's user"})
    throw error
  }
}
