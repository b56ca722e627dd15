import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {get} from 'node:http'
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
  /** Commits a release that boots and serves `/`, but answers 503 on `/up` (VERSION `unhealthy`); returns the commit. */
  addUnhealthyRelease(): string
  /** The repo's folder, also its clone URL. */
  dir: string
  /** The commit `main` points at. */
  head(): string
  remove(): void
}

export const BROKEN_VERSION = 'broken'
export const UNHEALTHY_VERSION = 'unhealthy'

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
  const commit = (version: string, app: string, healthy = true) => {
    writeFileSync(join(dir, 'VERSION'), `${version}\n`)
    writeFileSync(join(dir, 'config.ru'), app)
    if (healthy) rmSync(join(dir, 'UNHEALTHY'), {force: true})
    else writeFileSync(join(dir, 'UNHEALTHY'), '')
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
    addUnhealthyRelease: () => commit(UNHEALTHY_VERSION, config, false),
    dir,
    head: () => git('rev-parse', 'HEAD'),
    remove: () => rmSync(parent, {recursive: true, force: true}),
  }
}

/** What the app on 127.0.0.1:`port` answers on `path`, on a fresh connection (no keep-alive: each request stands alone). */
export async function answerOf(port: number, path = '/'): Promise<{body: string; status: number}> {
  return new Promise((resolve, reject) => {
    const request = get({agent: false, host: '127.0.0.1', path, port, timeout: 5000}, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk) => {
        body += chunk
      })
      response.on('end', () => resolve({body: body.trim(), status: response.statusCode ?? 0}))
      response.on('error', reject)
    })
    request.on('timeout', () => request.destroy(new Error('no answer within 5 s')))
    request.on('error', reject)
  })
}

export interface RequestTally {
  /** Each distinct body of a 200 answer, with how many times it came. */
  bodies: Record<string, number>
  /**
   * Connections closed without any answer (ECONNRESET, "socket hang up"). Puma (5.6 and 6.6 seen) drops
   * a connection that a stopping worker accepted before the request's bytes came (queue_requests, the
   * default): a phased restart can drop one in-flight connection per worker it stops.
   */
  dropped: number
  /** Every other failure: a status other than 200, a refused connection (nothing listening), a timeout. */
  failed: number
  /** The first failures and drops, and when, at most 10. */
  failures: string[]
  sent: number
}

/**
 * Requests `/` on 127.0.0.1:`port` one after another, each on a new connection, until `during` settles
 * (a deploy), at most `max` of them: what users saw meanwhile.
 */
export async function requestsDuring(port: number, during: Promise<unknown>, max = 50_000): Promise<RequestTally> {
  const deploy = {settled: false} // set by the promise, between requests
  const done = () => {
    deploy.settled = true
  }

  during.then(done, done)
  const tally: RequestTally = {bodies: {}, dropped: 0, failed: 0, failures: [], sent: 0}
  const started = Date.now()
  const note = (what: string) => {
    if (tally.failures.length < 10) tally.failures.push(`after ${Date.now() - started} ms: ${what}`)
  }

  while (!deploy.settled && tally.sent < max) {
    tally.sent++
    try {
      // eslint-disable-next-line no-await-in-loop -- one request at a time, as a patient user
      const {body, status} = await answerOf(port)
      if (status === 200) {
        tally.bodies[body] = (tally.bodies[body] ?? 0) + 1
      } else {
        tally.failed++
        note(`${status} ${body.slice(0, 80)}`)
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') tally.dropped++
      else tally.failed++
      note(String(error))
    }
  }

  return tally
}
