import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {localised, recipe} from './doc-recipes.js'
import {fixturesDir} from './paths.js'

/**
 * The app the deploy recipes release: test/fixtures/deploy-app (a Rack app answering its VERSION on /)
 * in a git repo, with docs/deploy.md's `puma.rb` recipe, localised, as its config/puma.rb. Each change is
 * one commit on `main`: the first is v1.
 */

export interface DeployRepo {
  /** Commits a release whose config.ru raises on boot (VERSION `broken`); returns the commit. */
  addBrokenRelease(): string
  /** Commits VERSION = `version` (with a working config.ru); returns the commit. */
  addRelease(version: string): string
  /** The repo's folder, also its clone URL. */
  dir: string
  /** The commit `main` points at. */
  head(): string
  remove(): void
}

export const BROKEN_VERSION = 'broken'

/**
 * A repo of the app for a deploy at `root` serving on `port`, with v1 committed. `owner`: the local user
 * who clones it (the deploy user); the repo is then theirs, as git refuses to read another user's repo.
 */
export function createDeployRepo(place: {owner?: string; port: number; root: string}): DeployRepo {
  const parent = mkdtempSync(join(tmpdir(), 'ctl-deploy-repo-'))
  chmodSync(parent, 0o755)
  const dir = join(parent, 'app.git')
  execFileSync('cp', ['-R', join(fixturesDir, 'deploy-app'), dir]) // fs.cpSync is still experimental on Node 20
  rmSync(join(dir, 'README.md'))
  mkdirSync(join(dir, 'config'))
  writeFileSync(join(dir, 'config', 'puma.rb'), localised(recipe('puma.rb'), place))
  const config = readFileSync(join(dir, 'config.ru'), 'utf8')
  // root writes the commits, the owner reads the repo: git checks ownership, so tell it which is fine
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', `safe.directory=${dir}`, '-C', dir, ...args], {encoding: 'utf8'}).trim()
  const commit = (version: string, app: string) => {
    writeFileSync(join(dir, 'VERSION'), `${version}\n`)
    writeFileSync(join(dir, 'config.ru'), app)
    git('add', '--all')
    git('-c', 'user.name=ctl tests', '-c', 'user.email=ctl@example.invalid', 'commit', '--quiet', '-m', version)
    if (place.owner) execFileSync('chown', ['-R', `${place.owner}:`, dir])
    return git('rev-parse', 'HEAD')
  }

  git('init', '--quiet', '--initial-branch=main')
  commit('v1', config)
  return {
    addBrokenRelease: () => commit(BROKEN_VERSION, `raise 'a broken release'\n${config}`),
    addRelease: (version) => commit(version, config),
    dir,
    head: () => git('rev-parse', 'HEAD'),
    remove: () => rmSync(parent, {recursive: true, force: true}),
  }
}
