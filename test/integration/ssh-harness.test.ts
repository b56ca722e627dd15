import {strict as assert} from 'node:assert'
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

import {createDeployRepo, type DeployRepo} from '../helpers/deploy-app.js'
import {type Sshd, sshdUnavailable, startSshd} from '../helpers/sshd.js'

/** The deploy-recipe tests' harness (issue 15): a key-only sshd for one user, whose PATH has what a deploy runs. */
describe('ssh harness for the deploy recipes', function () {
  this.timeout(30_000)
  let sshd: Sshd
  let repo: DeployRepo | undefined

  before(async function () {
    const why = sshdUnavailable()
    if (why) {
      console.log(`      (skipped: ${why})`)
      this.skip()
    }

    sshd = await startSshd()
  })

  after(async () => {
    repo?.remove()
    await sshd?.stop()
  })

  const ssh = async (command: string, options: string[] = sshd.sshOptions) =>
    promisify(execFile)('ssh', [...options, `${sshd.user}@${sshd.host}`, command], {encoding: 'utf8'})

  it('logs the user in by key, with ctl, node, ruby, puma and git on the PATH', async () => {
    const {stdout} = await ssh('id -un; pwd; command -v ctl node ruby puma git; ctl --version')
    const [user, home, ctl, node, ...rest] = stdout.trim().split('\n')
    assert.deepEqual([user, home, ctl, node], [sshd.user, sshd.home, `${sshd.binDir}/ctl`, `${sshd.binDir}/node`])
    assert.equal(rest.length, 4, stdout) // ruby, puma, git, then ctl's version
    assert.match(rest[3], /^puma-ctl\/\d/)
  })

  it('refuses a login without the key (no password, no keyboard-interactive)', async () => {
    const withoutKey = sshd.sshOptions.filter((option, index, all) => option !== '-i' && all[index - 1] !== '-i')
    await assert.rejects(
      ssh('true', [...withoutKey, '-o', 'PreferredAuthentications=password,keyboard-interactive']),
      (error) => {
        assert.equal((error as {code?: number}).code, 255)
        assert.match(String((error as {stderr?: string}).stderr), /Permission denied/)
        return true
      },
    )
  })

  it('lets the user clone the app repo, each release a commit', async () => {
    repo = createDeployRepo({owner: sshd.user, port: 3000, root: '/srv/app'})
    const v1 = repo.head()
    const v2 = repo.addRelease('v2')
    const broken = repo.addBrokenRelease()
    assert.equal(new Set([broken, v1, v2]).size, 3)
    const {stdout} = await ssh(
      `set -e; d=$(mktemp -d); git clone -q ${repo.dir} $d/app; git -C $d/app log --format=%s; cat $d/app/config/puma.rb; rm -rf $d`,
    )
    assert.match(stdout, /^broken\nv2\nv1\ndirectory '\/srv\/app\/current'/)
  })
})
