import {strict as assert} from 'node:assert'
import {execFileSync, spawn} from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'

import {answerOf, createDeployRepo, type DeployRepo, requestsDuring, type RequestTally} from '../helpers/deploy-app.js'
import {localised, recipe} from '../helpers/doc-recipes.js'
import {freePort, isAlive, killQuietly, readOrEmpty, waitFor, workerPidsOf} from '../helpers/processes.js'
import {type Sshd, sshdUnavailable, startSshd} from '../helpers/sshd.js'

/**
 * docs/deploy.md's Capistrano recipe, run as a deployer runs it (issue 15): real `cap` (Debian's 3.17)
 * over a real sshd to a dedicated user, the recipe's `deploy.rb` settings and `puma.rake` taken from the
 * document by their markers, Debian's Puma 5.6.5 started by the recipe's first-deploy step. The steps
 * build on each other: first deploy, a good release, a broken one, a rollback.
 */

interface CapRun {
  code: null | number
  /** stdout and stderr as they came. */
  output: string
  seconds: number
}

const CAPFILE = `require 'capistrano/setup'
require 'capistrano/deploy'
require 'capistrano/scm/git'
install_plugin Capistrano::SCM::Git
Dir.glob('lib/capistrano/tasks/*.rake').each { |r| import r }
`

function capAvailable(): boolean {
  try {
    execFileSync('cap', ['--version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

describe('the Capistrano recipe of docs/deploy.md, run for real over SSH', function () {
  this.timeout(60_000)
  let sshd: Sshd | undefined
  let repo: DeployRepo | undefined
  let base: string
  let root: string
  let capDir: string
  let port: number
  const steps: string[] = []
  const releases: Record<string, string> = {}
  let firstMaster = 0
  let loopSeen: RequestTally | undefined

  before(async function () {
    const why = sshdUnavailable() ?? (capAvailable() ? undefined : 'no cap (Debian: capistrano)')
    if (why) {
      console.log(`      (skipped: ${why})`)
      this.skip()
    }

    sshd = await startSshd()
    port = await freePort()
    base = mkdtempSync(join(tmpdir(), 'ctl-cap-'))
    chmodSync(base, 0o755) // the deploy user passes through to its deploy root
    root = join(base, 'app')
    // Capistrano's remote tmp_dir (its git-ssh wrapper goes there, else into /tmp for good): the deploy user's
    for (const dir of [root, join(base, 'remote-tmp')]) {
      mkdirSync(dir)
      execFileSync('chown', [`${sshd.user}:`, dir])
    }

    repo = createDeployRepo({owner: sshd.user, port, root})
    capDir = join(base, 'cap')
    writeCapProject(capDir, sshd, repo, {port, remoteTmp: join(base, 'remote-tmp'), root})
  })

  after(async () => {
    if (!sshd) return
    await stopPuma(join(root, 'shared', 'tmp', 'pids', 'puma.pid'))
    repo?.remove()
    await sshd.stop()
    rmSync(base, {recursive: true, force: true})
    if (steps.length > 0) {
      const loop = loopSeen
        ? `; during the broken deploy ${loopSeen.sent} requests, ${loopSeen.failed} failed, ${loopSeen.dropped} dropped`
        : ''
      console.log(`      (cap: ${steps.join(', ')}${loop})`)
    }
  })

  const cap = async (step: string, ...args: string[]) => {
    const run = await runCap(capDir, args)
    steps.push(`${step} ${run.seconds.toFixed(1)} s`)
    return run
  }

  const served = async () => (await answerOf(port)).body
  const current = () => readlinkSync(join(root, 'current'))
  const masterPid = () => Number(readOrEmpty(join(root, 'shared', 'tmp', 'pids', 'puma.pid')).trim())

  it('first deploy: starts Puma with ctl start, and v1 answers', async () => {
    const run = await cap('first deploy', 'production', 'deploy')
    assert.equal(run.code, 0, run.output)
    assert.match(run.output, /ctl start --dir \S+\/current -e production/)
    assert.equal(await served(), 'v1')
    releases.v1 = current()
    firstMaster = masterPid()
    assert.ok(isAlive(firstMaster), `the master in the pidfile (${firstMaster}) runs`)
  })

  it('a good release: a phased restart with --expect-dir and the health URL from the setting, exit 0, v2 answers', async () => {
    repo!.addRelease('v2')
    const run = await cap('good release', 'production', 'deploy')
    assert.equal(run.code, 0, run.output)
    assert.match(
      run.output,
      new RegExp(
        `ctl phased-restart --pidfile \\S+ --timeout 300 --expect-dir ${root}/current --health-url http://127\\.0\\.0\\.1:${port}/up`,
      ),
    )
    assert.match(run.output, /Phased restart finished/)
    assert.equal(await served(), 'v2')
    assert.equal(masterPid(), firstMaster, 'the same master, restarted in phases')
    releases.v2 = current()
    assert.notEqual(releases.v2, releases.v1)
  })

  it("a broken release: cap fails with ctl's reason, no request fails, and current is back at v2", async () => {
    repo!.addBrokenRelease()
    const log = join(root, 'shared', 'log', 'puma.log')
    const logged = readOrEmpty(log).length
    const deploy = cap('broken release', 'production', 'deploy')
    loopSeen = await requestsDuring(port, deploy)
    const run = await deploy
    assert.notEqual(run.code, 0, run.output)
    assert.match(run.output, /ctl exit status: 5/)
    assert.match(run.output, /Error: Worker \d failed to boot/)
    const seen = `${loopSeen.failures.join('\n')}\n${readOrEmpty(log).slice(logged)}`
    assert.ok(loopSeen.sent > 0, 'the loop sent requests')
    assert.equal(loopSeen.failed, 0, seen)
    // Puma's own race (RequestTally.dropped): at most one in-flight connection per worker it stopped
    const stops =
      readOrEmpty(log)
        .slice(logged)
        .match(/Stopping \d+ for phased upgrade/g)?.length ?? 0
    assert.ok(loopSeen.dropped <= stops, seen)
    assert.deepEqual(Object.keys(loopSeen.bodies), ['v2'])

    assert.equal(await served(), 'v2')
    assert.equal(current(), releases.v2)
    assert.equal(masterPid(), firstMaster)
    assert.match(
      readOrEmpty(join(root, 'revisions.log')),
      new RegExp(`failed: rolled back to release ${basename(releases.v2)}\\n$`),
    )
    // the failed release is gone, so that deploy:rollback counts from the live one
    assert.deepEqual(readdirSync(join(root, 'releases')).sort(), [basename(releases.v1), basename(releases.v2)])
  })

  it('a later cap deploy:rollback goes back to v1', async () => {
    const run = await cap('rollback', 'production', 'deploy:rollback')
    assert.equal(run.code, 0, run.output)
    assert.equal(await served(), 'v1')
    assert.equal(current(), releases.v1)
  })

  it("the master dies during the restart (exit 7): ctl's reason stays the error, and the rollback starts Puma on v1", async () => {
    addSlowRelease(repo!, sshd!.user)
    const log = join(root, 'shared', 'log', 'puma.log')
    const logged = readOrEmpty(log).length
    const master = masterPid()
    const running = cap('master killed', 'production', 'deploy')
    // the slow release's workers take seconds to boot: ctl is waiting for them when the master dies
    await waitFor(
      () => readOrEmpty(log).slice(logged).includes('Starting phased worker restart'),
      30_000,
      () => 'the phased restart to begin',
    )
    killQuietly(master, 'SIGKILL')
    const run = await running
    assert.notEqual(run.code, 0, run.output)
    const reason = run.output.indexOf('ctl exit status: 7')
    assert.notEqual(reason, -1, run.output)
    assert.match(run.output, /exited during the restart: the server is down/)
    assert.ok(reason < run.output.indexOf('puma:roll_back_failed_release'), "ctl's error comes first")
    assert.match(run.output, /The deploy has failed with an error: .*ctl exit status: 7/)

    assert.equal(await served(), 'v1')
    assert.equal(current(), releases.v1)
    assert.notEqual(masterPid(), master, 'a new master, started by ctl start')
    assert.match(
      readOrEmpty(join(root, 'revisions.log')),
      new RegExp(`failed: rolled back to release ${basename(releases.v1)}\\n$`),
    )
  })
})

/**
 * A release whose config.ru sleeps before it loads (a slow boot), committed on top of repo.addRelease's
 * as deploy-app.ts commits: git as root, then the repo handed back to its owner.
 */
function addSlowRelease(repo: DeployRepo, owner: string, seconds = 5): void {
  repo.addRelease('slow')
  const app = join(repo.dir, 'config.ru')
  writeFileSync(app, `sleep ${seconds}\n${readFileSync(app, 'utf8')}`)
  execFileSync('git', [
    '-c',
    `safe.directory=${repo.dir}`,
    '-C',
    repo.dir,
    '-c',
    'user.name=ctl tests',
    '-c',
    'user.email=ctl@example.invalid',
    'commit',
    '--quiet',
    '--all',
    '-m',
    'slow boot',
  ])
  execFileSync('chown', ['-R', `${owner}:`, repo.dir])
}

/** A Capistrano project in `dir` deploying `repo` to `deploy.root` over `sshd`, with the document's recipe files. */
function writeCapProject(
  dir: string,
  sshd: Sshd,
  repo: DeployRepo,
  deploy: {port: number; remoteTmp: string; root: string},
): void {
  const place = {port: deploy.port, root: deploy.root}
  mkdirSync(join(dir, 'config', 'deploy'), {recursive: true})
  mkdirSync(join(dir, 'lib', 'capistrano', 'tasks'), {recursive: true})
  writeFileSync(join(dir, 'Capfile'), CAPFILE)
  const settings = [
    "set :application, 'app'",
    `set :repo_url, 'file://${repo.dir}'`,
    `set :deploy_to, '${place.root}'`,
    "set :branch, 'main'",
    `set :tmp_dir, '${deploy.remoteTmp}'`,
    '',
  ].join('\n')
  writeFileSync(join(dir, 'config', 'deploy.rb'), settings + localised(recipe('capistrano-deploy.rb'), place))
  writeFileSync(
    join(dir, 'config', 'deploy', 'production.rb'),
    [
      `server '${sshd.host}', user: '${sshd.user}', port: ${sshd.port}, roles: %w[app]`,
      `set :ssh_options, keys: ['${sshd.keyFile}'], keys_only: true, auth_methods: %w[publickey],`,
      `                  user_known_hosts_file: '${sshd.knownHostsFile}', verify_host_key: :always, config: false`,
      '',
    ].join('\n'),
  )
  writeFileSync(join(dir, 'lib', 'capistrano', 'tasks', 'puma.rake'), localised(recipe('capistrano-puma.rake'), place))
}

/** Runs `cap ARGS` in `dir`; resolves with its exit code and output whatever the code. */
async function runCap(dir: string, args: string[]): Promise<CapRun> {
  const started = process.hrtime.bigint()
  const child = spawn('cap', args, {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout.on('data', (chunk) => {
    output += chunk
  })
  child.stderr.on('data', (chunk) => {
    output += chunk
  })
  const code = await new Promise<null | number>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  return {code, output, seconds: Number(process.hrtime.bigint() - started) / 1e9}
}

/** Stops the Puma the recipe started (the pidfile's master, then any worker left), by PID. */
async function stopPuma(pidfile: string): Promise<void> {
  if (!existsSync(pidfile)) return
  const master = Number(readOrEmpty(pidfile).trim())
  if (!isAlive(master)) return
  const workers = workerPidsOf(master)
  killQuietly(master, 'SIGTERM')
  await waitFor(
    () => !isAlive(master),
    15_000,
    () => `Puma master ${master} to stop`,
  )
  for (const pid of workers) killQuietly(pid, 'SIGKILL')
  await waitFor(
    () => !workers.some((pid) => isAlive(pid)),
    5000,
    () => `Puma workers ${workers} to exit`,
  )
}
