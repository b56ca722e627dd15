import {existsSync, readFileSync, readlinkSync, realpathSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {type RunAs} from '../target/config-safety.js'
import {readEnvironment} from '../target/process-table.js'

/**
 * How the master would load the new release, read from /proc: its Ruby, its environment, the folder
 * it restarts in as that resolves now, its Puma library and its user. A boot check runs from this.
 */
export interface BootPlan {
  env: Record<string, string>
  /** Where the master's hot restart chdirs: its PWD when that still leads somewhere (the `current` symlink), else its cwd. */
  folder: string
  /** Puma's lib folder when the master's Puma is not a gem Ruby finds on its own (a build with its own $LOAD_PATH). */
  pumaLib?: string
  ruby: string
  runAs: RunAs & {groups?: number[]}
  warnings: string[]
}

/** What a plan reads of the world: /proc and the file system, injectable. */
export interface PlanReads {
  environment(pid: number): Record<string, string> | undefined
  euid(): number
  exists(path: string): boolean
  readLink(path: string): string | undefined
  readText(path: string): string | undefined
  realpath(path: string): string | undefined
}

const orUndefined =
  <T>(read: (path: string) => T) =>
  (path: string): T | undefined => {
    try {
      return read(path)
    } catch {
      return undefined
    }
  }

export const realPlanReads: PlanReads = {
  environment: readEnvironment,
  euid: () => process.geteuid?.() ?? -1,
  exists: existsSync,
  readLink: orUndefined((path) => readlinkSync(path)),
  readText: orUndefined((path) => readFileSync(path, 'utf8')),
  realpath: orUndefined((path) => realpathSync(path)),
}

/** The plan, or why there is none (a master whose /proc ctl may not read). */
export function planBootCheck(pid: number, reads: PlanReads = realPlanReads): BootPlan | {unavailable: string} {
  const ruby = reads.readLink(`/proc/${pid}/exe`)
  const env = reads.environment(pid)
  const cwd = reads.readLink(`/proc/${pid}/cwd`)
  const status = reads.readText(`/proc/${pid}/status`)
  if (!ruby || !env || !cwd || !status)
    return {unavailable: `ctl cannot read how master ${pid} runs (/proc/${pid}: its executable, environment, folder)`}
  const folder = restartFolder(env.PWD, cwd, reads)
  const owner = ownerOf(status)
  const warnings: string[] = []
  if (owner.uid === 0)
    warnings.push(
      `the master runs as root, so the boot check loads the new release as root too: run Puma as an unprivileged user`,
    )
  const runAs: BootPlan['runAs'] = reads.euid() === 0 && owner.uid !== 0 ? {kind: 'drop', ...owner} : {kind: 'self'}
  return {env: {...env, PWD: folder}, folder, pumaLib: pumaLibOf(pid, reads), ruby, runAs, warnings}
}

/**
 * Puma restarts in the PWD it was started with when that led to its cwd (Puma's restart_dir): the
 * `current` symlink, which now may lead to a new release. A PWD that is gone or never led there: the cwd.
 */
function restartFolder(pwd: string | undefined, cwd: string, reads: PlanReads): string {
  if (!pwd) return cwd
  const now = reads.realpath(pwd)
  if (now === undefined) return cwd
  return now === cwd || now !== pwd ? pwd : cwd
}

function ownerOf(status: string): {gid: number; groups: number[]; uid: number} {
  // Effective IDs: the second field of Uid: and Gid:.
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+\\d+\\s+(\\d+)`, 'm').exec(status)?.[1] ?? -1)
  const groups = (/^Groups:[\t ]*(.*)$/m.exec(status)?.[1] ?? '').split(/\s+/).filter(Boolean).map(Number)
  return {uid: field('Uid'), gid: field('Gid'), groups}
}

/**
 * The master's Puma library, from its mapped puma_http11.so (lib/puma/puma_http11.so): worth passing
 * only when that folder holds puma.rb (a gem's extension lives elsewhere, and Ruby finds the gem itself).
 */
function pumaLibOf(pid: number, reads: PlanReads): string | undefined {
  const maps = reads.readText(`/proc/${pid}/maps`) ?? ''
  const so = /\s(\/\S*\/puma\/puma_http11\.so)$/m.exec(maps)?.[1]
  if (!so) return undefined
  const lib = dirname(dirname(so))
  return reads.exists(join(lib, 'puma.rb')) ? lib : undefined
}
