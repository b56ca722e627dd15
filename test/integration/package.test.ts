import {strict as assert} from 'node:assert'
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {projectRoot} from '../helpers/paths.js'

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    // eslint-disable-next-line camelcase -- npm's own variable names
    env: {...process.env, npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false'},
  })

/** What `npm install -g puma-ctl` would give: the packed tarball, installed into a scratch prefix. */
describe('the npm package', function () {
  this.timeout(180_000)
  let scratch: string
  let ctl: string

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'ctl-pack-'))
    // dist/ is already built; the pack must not rebuild it under the running tests.
    npm(['pack', '--ignore-scripts', '--pack-destination', scratch], projectRoot)
    const tarball = readdirSync(scratch).find((file) => file.endsWith('.tgz'))!
    npm(['install', '--global', '--prefix', join(scratch, 'prefix'), join(scratch, tarball)], scratch)
    ctl = join(scratch, 'prefix', 'bin', 'ctl')
  })

  after(() => rmSync(scratch, {recursive: true, force: true}))

  it('installs globally and runs ctl --version', () => {
    assert.match(execFileSync(ctl, ['--version'], {encoding: 'utf8'}), /^puma-ctl\/0\.\d+\.\d+ linux-x64 node-v\d+/)
  })

  it('runs a command through the fast path: ctl status --pid 1 is refused with exit 3', () => {
    const result = spawnSync(ctl, ['status', '--pid', '1'], {encoding: 'utf8'})
    assert.equal(result.status, 3, result.stderr)
    assert.match(result.stderr, /^Error: invalid --pid: 1 is not a PID ctl will signal/)
  })

  it('ctl --help lists the commands, and each command has its help', () => {
    const help = execFileSync(ctl, ['--help'], {encoding: 'utf8'})
    for (const command of ['phased-restart', 'restart', 'status', 'stop', 'halt', 'stats', 'autocomplete'])
      assert.match(help, new RegExp(`\\b${command}\\b`))
    assert.match(execFileSync(ctl, ['phased-restart', '--help'], {encoding: 'utf8'}), /EXAMPLES/)
  })

  it('ships only what it needs (no sources or tests)', () => {
    const listing = npm(['pack', '--dry-run', '--json', '--ignore-scripts'], projectRoot)
    const files: string[] = JSON.parse(listing)[0].files.map((file: {path: string}) => file.path)
    assert.ok(
      files.includes('dist/ctl.js') &&
        files.includes('dist/fast.cjs') &&
        files.includes('oclif.manifest.json') &&
        files.includes('bin/run.js'),
    )
    assert.ok(!files.some((file) => file.startsWith('src/') || file.startsWith('test/')), files.join(', '))
  })

  // The README's set-up line: a fresh clone has no node_modules and no dist/ when npm runs its prepare.
  it('from a fresh clone, `npm install -g .` alone builds it and puts a working ctl on the PATH', function () {
    this.timeout(300_000)
    const clone = join(scratch, 'clone')
    execFileSync('git', ['clone', '--quiet', projectRoot, clone])
    const prefix = join(scratch, 'clone-prefix')
    npm(['install', '--global', '--prefix', prefix, '.'], clone)
    const fresh = join(prefix, 'bin', 'ctl')
    assert.match(execFileSync(fresh, ['--version'], {encoding: 'utf8'}), /^puma-ctl\/0\.\d+\.\d+ linux-x64/)
    const refused = spawnSync(fresh, ['-p', '1', 'stop'], {encoding: 'utf8', cwd: scratch})
    assert.equal(refused.status, 3, refused.stderr)
  })
})
