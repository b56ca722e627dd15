import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {projectRoot} from './paths.js'

/**
 * The real Pumas the suite runs: Debian's 5.6.5 and the newer releases that `vendor/real-puma/build.sh`
 * (a copy of the team's shared/real-puma) builds offline, or the one where REAL_PUMA_DIR points. A finished build is cached in
 * build.sh's default folder, `${XDG_CACHE_HOME:-$HOME/.cache}/real-puma/VERSION`, so runs share it.
 */

export const DEBIAN_PUMA = '5.6.5'
export const REAL_PUMA_VERSIONS = [DEBIAN_PUMA, '6.6.1', '7.2.1', '8.0.2'] as const
export type PumaVersion = (typeof REAL_PUMA_VERSIONS)[number]

/** Debian's package puts its puma here; .ci/run installs it. */
const DEBIAN_PUMA_PATH = '/usr/bin/puma'

/** REAL_PUMA_DIR, else vendor/real-puma: in the repository, so that a clone anywhere has it. */
function realPumaDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.REAL_PUMA_DIR || join(projectRoot, 'vendor', 'real-puma')
}

const built = new Map<PumaVersion, Promise<string>>()

/**
 * The absolute path of `version`'s bin/puma, built first if it is not yet (about 2 s; a no-op in 0.05 s
 * once built). Absolute, because a hot restart re-executes Puma's `$0`.
 */
export async function realPuma(version: PumaVersion): Promise<string> {
  if (version === DEBIAN_PUMA) return DEBIAN_PUMA_PATH
  let path = built.get(version)
  if (!path) {
    path = buildPuma(version)
    built.set(version, path)
  }

  return path
}

async function buildPuma(version: PumaVersion): Promise<string> {
  const script = join(realPumaDir(), 'build.sh')
  if (!existsSync(script)) {
    throw new Error(`no ${script} to build Puma ${version}: set REAL_PUMA_DIR to a folder like vendor/real-puma`)
  }

  try {
    const {stdout} = await promisify(execFile)(script, [version])
    // build.sh's last stdout line is the path of the wrapper it built
    return stdout.trim().split('\n').at(-1)!
  } catch (error) {
    const {stderr} = error as {stderr?: string}
    throw new Error(`${script} ${version} failed:\n${stderr ?? String(error)}`)
  }
}
