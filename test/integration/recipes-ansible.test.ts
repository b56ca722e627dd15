import {strict as assert} from 'node:assert'
import {execFile, execFileSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'

import {answerOf, createDeployRepo, type DeployRepo, requestsDuring} from '../helpers/deploy-app.js'
import {recipe} from '../helpers/doc-recipes.js'
import {freePort, isAlive, killQuietly, readOrEmpty, waitFor} from '../helpers/processes.js'
import {runCtl} from '../helpers/run-ctl.js'
import {type Sshd, sshdUnavailable, startSshd} from '../helpers/sshd.js'

/**
 * Issue 15: docs/deploy.md's Ansible playbooks, taken from the document by marker and run as printed by
 * a real ansible-playbook over a real sshd, on two inventory hosts (both 127.0.0.1, each its own deploy
 * root, port and Puma): first deploy, a good release, a broken release that stops at the canary, and
 * the rollback play. Each host's repo differs only in config/puma.rb (the doc's, for its root and port).
 */

interface Host {
  name: string
  port: number
  repo: DeployRepo
  root: string
}

interface PlaybookRun {
  code: number
  durationMs: number
  output: string
}

const ANSIBLE = '/usr/bin/ansible-playbook'
/** Ansible's temporary folder on the "remote" hosts, in the test's folder: the deploy user's. */
const REMOTE_TMP = 'remote-tmp'

describe('the Ansible recipe, run for real over ssh (issue 15)', function () {
  this.timeout(120_000)
  let sshd: Sshd
  let work: string
  const hosts: Host[] = []
  const timings: string[] = []

  before(async function () {
    const why = sshdUnavailable() ?? (existsSync(ANSIBLE) ? undefined : `no ${ANSIBLE} (Debian: ansible)`)
    if (why) {
      console.log(`      (skipped: ${why})`)
      this.skip()
    }

    sshd = await startSshd()
    work = mkdtempSync(join(tmpdir(), 'ctl-ansible-'))
    chmodSync(work, 0o755)
    mkdirSync(join(work, REMOTE_TMP))
    execFileSync('chown', [`${sshd.user}:`, join(work, REMOTE_TMP)])
    for (const name of ['web1', 'web2']) {
      const root = join(work, name)
      mkdirSync(root)
      execFileSync('chown', [`${sshd.user}:`, root])
      // eslint-disable-next-line no-await-in-loop -- two ports, one after the other, so they differ
      const port = await freePort()
      hosts.push({name, port, repo: createDeployRepo({owner: sshd.user, port, root}), root})
    }

    writeAnsibleFiles(work, sshd, hosts)
  })

  after(async () => {
    await Promise.all(hosts.map(async (host) => stopPuma(host, sshd.user)))
    await sshd?.stop()
    for (const host of hosts) host.repo.remove()
    if (work) rmSync(work, {recursive: true, force: true})
    if (timings.length > 0) console.log(`      (times: ${timings.join(', ')})`)
  })

  async function playbook(file: string, step: string): Promise<PlaybookRun> {
    const run = await ansiblePlaybook(work, file)
    timings.push(`${step} ${(run.durationMs / 1000).toFixed(1)} s`)
    return run
  }

  it('first deploy: Puma started by ctl start on both hosts, both serve v1', async () => {
    const run = await playbook('deploy.yml', 'first deploy')
    assert.equal(run.code, 0, run.output)
    for (const host of hosts) {
      // eslint-disable-next-line no-await-in-loop -- two hosts
      assert.deepEqual(await answerOf(host.port), {body: 'v1', status: 200}, host.name)
      assert.equal(releasesOf(host).length, 1)
    }
  })

  it("ctl run by another user than Puma's, as the doc warns: exit 4, nothing sent", async () => {
    const [host] = hosts
    const master = masterOf(host)
    const pidfile = join(host.root, 'shared', 'tmp', 'pids', 'puma.pid')
    // sshd's ctl: a checkout others cannot read has a readable copy there (sshd.ts)
    const code = await new Promise((resolve) => {
      execFile(
        'runuser',
        ['-u', 'nobody', '--', join(sshd.binDir, 'ctl'), 'phased-restart', '--pidfile', pidfile],
        {cwd: '/'},
        (error) => resolve(error ? (error as {code?: number}).code : 0),
      )
    })
    assert.equal(code, 4)
    assert.doesNotMatch(readOrEmpty(join(host.root, 'shared', 'log', 'puma.log')), /Starting phased worker restart/)
    assert.equal(masterOf(host), master)
  })

  it('a good release: exit 0, both serve v2 from a new release', async () => {
    for (const host of hosts) host.repo.addRelease('v2')
    const run = await playbook('deploy.yml', 'good release')
    assert.equal(run.code, 0, run.output)
    for (const host of hosts) {
      // eslint-disable-next-line no-await-in-loop -- two hosts
      assert.deepEqual(await answerOf(host.port), {body: 'v2', status: 200}, host.name)
      assert.equal(basename(readlinkSync(join(host.root, 'current'))), releasesOf(host)[1])
    }
  })

  it('a broken release: the canary fails with a short message and keeps serving v2; host 2 is untouched', async () => {
    const [canary, other] = hosts
    for (const host of hosts) host.repo.addBrokenRelease()
    const otherReleases = releasesOf(other)
    const otherMaster = masterOf(other)
    const log = () => readOrEmpty(join(canary.root, 'shared', 'log', 'puma.log'))
    const logBefore = log().length
    const deploy = playbook('deploy.yml', 'broken release')
    const seen = await requestsDuring(canary.port, deploy)
    const run = await deploy
    const stops = (
      log()
        .slice(logBefore)
        .match(/Stopping \d+ for phased upgrade/g) ?? []
    ).length
    timings.push(
      `requests to the canary meanwhile: ${seen.sent} sent, ${seen.failed} failed, ${seen.dropped} dropped by ${stops} worker stops`,
    )

    assert.equal(run.code, 2, run.output) // ansible-playbook: a host failed
    const what = `${seen.failures.join('\n')}\n${log().slice(logBefore)}`
    assert.equal(seen.failed, 0, what)
    // Puma's own race (RequestTally.dropped): at most the one in-flight connection per worker stopped
    assert.ok(seen.dropped <= stops, what)
    assert.deepEqual(Object.keys(seen.bodies), ['v2'])
    assert.ok(seen.sent > 10, `only ${seen.sent} requests during the deploy`)
    // the fail task's message: the step, ctl's exit code and message, what became of current; not the JSON
    assert.match(
      run.output,
      /"msg": "Phased restart, wait until every worker runs the release and it answers: exit 5: Worker \d failed to boot in phase 2 .*current is back at .*Puma serves it again\."/,
    )
    assert.doesNotMatch(run.output, /"errorLines"/)
    assert.deepEqual(await answerOf(canary.port), {body: 'v2', status: 200})
    assert.equal(releasesOf(canary).length, 2, 'the failed release is removed')
    // host 2: not reached at all
    assert.doesNotMatch(run.output, new RegExp(`\\b${other.name}\\b`))
    assert.deepEqual(releasesOf(other), otherReleases)
    assert.equal(masterOf(other), otherMaster)
    assert.deepEqual(await answerOf(other.port), {body: 'v2', status: 200})
  })

  it('an unhealthy release: ctl exit 8 after the restart, the canary switched back to v2; host 2 is untouched', async () => {
    const [canary, other] = hosts
    for (const host of hosts) host.repo.addUnhealthyRelease()
    const otherReleases = releasesOf(other)
    const otherMaster = masterOf(other)
    const run = await playbook('deploy.yml', 'unhealthy release')

    assert.equal(run.code, 2, run.output)
    assert.match(
      run.output,
      /"msg": "Phased restart, wait until every worker runs the release and it answers: exit 8: .*503.*current is back at .*Puma serves it again\."/,
    )
    assert.deepEqual(await answerOf(canary.port), {body: 'v2', status: 200})
    assert.equal(releasesOf(canary).length, 2, 'the failed release is removed')
    assert.deepEqual(releasesOf(other), otherReleases)
    assert.equal(masterOf(other), otherMaster)
    assert.deepEqual(await answerOf(other.port), {body: 'v2', status: 200})
  })

  it('the rollback play: both hosts back on v1', async () => {
    const run = await playbook('rollback.yml', 'rollback')
    assert.equal(run.code, 0, run.output)
    for (const host of hosts) {
      // eslint-disable-next-line no-await-in-loop -- two hosts
      assert.deepEqual(await answerOf(host.port), {body: 'v1', status: 200}, host.name)
      assert.equal(releasesOf(host).length, 1, 'the release rolled back from is removed')
    }
  })
})

/** The playbooks as docs/deploy.md prints them, an inventory of the two hosts, and an empty ansible.cfg. */
function writeAnsibleFiles(work: string, sshd: Sshd, hosts: Host[]): void {
  writeFileSync(join(work, 'deploy.yml'), recipe('ansible-deploy'))
  writeFileSync(join(work, 'rollback.yml'), recipe('ansible-rollback'))
  writeFileSync(join(work, 'ansible.cfg'), '')
  // the doc's inventory names these variables; each test host has its own values
  const documented = recipe('ansible-inventory')
  for (const variable of ['ansible_user', 'app_root', 'app_repo', 'health_url']) {
    assert.match(documented, new RegExp(`^\\s+${variable}:`, 'm'), `the doc's inventory sets ${variable}`)
  }

  const inventory = {
    app: {
      hosts: Object.fromEntries(
        hosts.map((host) => [
          host.name,
          {
            // eslint-disable-next-line camelcase -- Ansible's names
            ansible_host: sshd.host,
            // eslint-disable-next-line camelcase
            app_repo: host.repo.dir,
            // eslint-disable-next-line camelcase
            app_root: host.root,
            // eslint-disable-next-line camelcase
            health_url: `http://127.0.0.1:${host.port}/up`,
          },
        ]),
      ),
      vars: {
        /* eslint-disable camelcase -- Ansible's names */
        ansible_port: sshd.port,
        ansible_private_key_file: sshd.keyFile,
        ansible_python_interpreter: '/usr/bin/python3',
        ansible_ssh_common_args: sshd.sshOptions.join(' '),
        ansible_user: sshd.user,
        /* eslint-enable camelcase */
      },
    },
  }
  // JSON is YAML: no YAML writer needed
  writeFileSync(join(work, 'inventory.yml'), JSON.stringify(inventory, null, 2))
}

/** Runs `ansible-playbook -i inventory.yml FILE` in `work`, with every Ansible folder there and no other config. */
async function ansiblePlaybook(work: string, file: string): Promise<PlaybookRun> {
  const started = Date.now()
  const env = {
    ...process.env,
    ANSIBLE_CONFIG: join(work, 'ansible.cfg'),
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_HOME: join(work, '.ansible'),
    ANSIBLE_LOCAL_TEMP: join(work, '.ansible', 'tmp'),
    ANSIBLE_REMOTE_TEMP: join(work, REMOTE_TMP),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_PIPELINING: 'true',
    ANSIBLE_RETRY_FILES_ENABLED: 'false',
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(work, '.ansible', 'cp'),
    LC_ALL: 'C.UTF-8', // Ansible refuses a locale that is not UTF-8
  }
  return new Promise((resolve) => {
    execFile(ANSIBLE, ['-i', 'inventory.yml', file], {cwd: work, env}, (error, stdout, stderr) => {
      const code = error ? Number((error as {code?: number}).code ?? 1) : 0
      resolve({code, durationMs: Date.now() - started, output: `${stdout}\n${stderr}`})
    })
  })
}

/** The host's release folders by name (timestamps: oldest first). */
function releasesOf(host: Host): string[] {
  const releases = join(host.root, 'releases')
  return existsSync(releases) ? readdirSync(releases).sort() : []
}

/** The host's Puma master, by its pidfile. */
function masterOf(host: Host): number {
  return Number(readOrEmpty(join(host.root, 'shared', 'tmp', 'pids', 'puma.pid')).trim())
}

/** Stops the host's Puma (ctl stop, as its user), else SIGKILL to its master by PID. */
async function stopPuma(host: Host, user: string): Promise<void> {
  const pid = masterOf(host)
  if (!pid || !isAlive(pid)) return
  await runCtl(['stop', '--pidfile', join(host.root, 'shared', 'tmp', 'pids', 'puma.pid')], {user})
  if (isAlive(pid)) killQuietly(pid, 'SIGKILL')
  await waitFor(
    () => !isAlive(pid),
    10_000,
    () => `Puma master ${pid} of ${host.name} to exit`,
  )
}
