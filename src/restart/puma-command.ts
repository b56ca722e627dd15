import {accessSync, constants, statSync} from 'node:fs'
import {delimiter, isAbsolute, join, resolve} from 'node:path'

import {usageError} from '../errors.js'

/** Which Puma `ctl start` runs, and how it chose it (the output says so, and --json's `launcher`). */
export type Launcher = '--puma' | 'bin/puma' | 'bundle exec puma' | 'puma on PATH'

export interface PumaCommand {
  /** The program and its arguments, for spawn. */
  argv: string[]
  launcher: Launcher
  /** The command line as a shell user would type it, for messages and --json's `command`. */
  shown: string
}

export interface PumaCommandOptions {
  /** The app's folder: Puma's working folder. */
  appDir: string
  /** -F/--config-file: passed as `-C FILE` (otherwise Puma finds config/puma.rb itself). */
  configFile?: string
  /** Where relative --puma and --config-file paths are resolved from (ctl's own folder). */
  cwd: string
  /** -e/--environment: passed as `-e ENV`. */
  environment?: string
  /** What came after `--`, passed through. */
  passThrough: readonly string[]
  /** --puma PATH. */
  puma?: string
}

/** The file system and PATH as the choice needs them: real ones below, fakes in tests. */
export interface CommandLookup {
  exists(path: string): boolean
  isExecutable(path: string): boolean
  /** The absolute path of a program on PATH, if any. */
  which(name: string): string | undefined
}

/**
 * The Puma to run: --puma, else the app's bin/puma binstub, else `bundle exec puma` when the app
 * has a Gemfile and bundler is installed, else `puma` on PATH. Its arguments: `-C FILE` for
 * --config-file, `-e ENV` for --environment, then what came after `--`. A usage error when there is
 * none, or the config file is missing: nothing is started then.
 */
export function pumaCommand(options: PumaCommandOptions, lookup: CommandLookup = realLookup): PumaCommand {
  const args: string[] = []
  if (options.configFile !== undefined) {
    const config = resolve(options.cwd, options.configFile)
    if (!lookup.exists(config)) throw usageError(`--config-file ${options.configFile} does not exist`)
    args.push('-C', config)
  }

  if (options.environment !== undefined) args.push('-e', options.environment)
  args.push(...options.passThrough)
  const {launcher, program} = chooseProgram(options, lookup)
  const argv = [...program, ...args]
  return {argv, launcher, shown: argv.map((arg) => shellWord(arg)).join(' ')}
}

function chooseProgram(
  {appDir, cwd, puma}: PumaCommandOptions,
  lookup: CommandLookup,
): {launcher: Launcher; program: string[]} {
  // A name without a slash is looked up on PATH, as a shell would; a path is taken from ctl's folder.
  if (puma !== undefined) return {launcher: '--puma', program: [puma.includes('/') ? resolve(cwd, puma) : puma]}
  // Absolute, through the app's folder as given: a hot restart re-executes it, from `current` after a deploy.
  const binstub = join(appDir, 'bin', 'puma')
  if (lookup.isExecutable(binstub)) return {launcher: 'bin/puma', program: [binstub]}
  const bundle = lookup.exists(join(appDir, 'Gemfile')) ? lookup.which('bundle') : undefined
  if (bundle) return {launcher: 'bundle exec puma', program: [bundle, 'exec', 'puma']}
  const onPath = lookup.which('puma')
  if (onPath) return {launcher: 'puma on PATH', program: [onPath]}
  throw usageError(`no Puma to start in ${appDir}: no executable bin/puma, no Gemfile with bundler, no puma on PATH`, {
    suggestion: 'pass --puma PATH (the puma executable to run)',
  })
}

/** A word as a POSIX shell reads it back: quoted only when it must be. */
function shellWord(word: string): string {
  return /^[\w./:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", String.raw`'\''`)}'`
}

export const realLookup: CommandLookup = {
  exists(path) {
    try {
      statSync(path)
      return true
    } catch {
      return false
    }
  },
  isExecutable(path) {
    try {
      accessSync(path, constants.X_OK)
      return statSync(path).isFile()
    } catch {
      return false
    }
  },
  which(name, path = process.env.PATH ?? '') {
    for (const folder of path.split(delimiter)) {
      if (!folder || !isAbsolute(folder)) continue
      const candidate = join(folder, name)
      if (realLookup.isExecutable(candidate)) return candidate
    }

    return undefined
  },
}
