import {strict as assert} from 'node:assert'
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {type PumaConfigFacts, readPumaConfig, rubyFactsOr} from '../../src/target/puma-config.js'
import {fixturesDir} from '../helpers/paths.js'
import {isAlive} from '../helpers/processes.js'
import {DEBIAN_PUMA, realPuma} from '../helpers/real-puma.js'

/**
 * Puma's own reading of config files that only Ruby can resolve, with real Ruby and real Pumas:
 * Debian's 5.6.5 (the system's `require 'puma'`) and a built 8.0.2 (its lib folder). Also the safety
 * rules for real: the config runs as its owner, a writable one is refused unread, a slow one is killed.
 */
function withoutHow(facts: PumaConfigFacts): Partial<PumaConfigFacts> {
  const rest: Partial<PumaConfigFacts> = {...facts}
  delete rest.how
  delete rest.pumaVersion
  return rest
}

describe('puma-config with real Ruby', () => {
  describe("Puma's own reading", function () {
    this.timeout(60_000)
    let root: string
    let app: string
    const nobody = 65_534

    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'ctl-config-'))
      // Readable by the user a config is handed to, writable only by root (the folder rule).
      chmodSync(root, 0o755)
      app = join(root, 'app')
      mkdirSync(join(app, 'config'), {recursive: true})
    })

    afterEach(() => rmSync(root, {force: true, recursive: true}))

    function writeConfig(source: string): string {
      const path = join(app, 'config', 'puma.rb')
      writeFileSync(path, source, {mode: 0o644})
      chmodSync(path, 0o644)
      return path
    }

    const pumas: Array<{lib: () => Promise<string | undefined>; version: string}> = [
      {lib: async () => undefined, version: DEBIAN_PUMA},
      {lib: async () => join(dirname(await realPuma('8.0.2')), '..', 'src', 'lib'), version: '8.0.2'},
    ]

    for (const {lib, version} of pumas) {
      it(`Puma ${version} resolves what the static reader cannot: a helper method and File.join(__dir__, '..')`, async () => {
        copyFileSync(join(fixturesDir, 'configs', 'helper-method.rb'), writeConfig(''))
        const pumaLib = await lib()
        if (pumaLib) assert.ok(existsSync(join(pumaLib, 'puma.rb')), `no puma.rb in ${pumaLib}`)
        const facts = await readPumaConfig('config/puma.rb', {appFolder: app, ruby: {pumaLib}})
        assert.equal(facts.how, 'ruby', facts.rubyNote)
        assert.equal(facts.pumaVersion, version)
        assert.equal(facts.pidfile, join(app, 'tmp', 'pids', 'puma.pid'))
        assert.equal(facts.statePath, join(app, 'tmp', 'pids', 'puma.state'))
        assert.equal(facts.binds?.length, 1)
        // Puma 8 binds `port` to [::] where IPv6 is up
        assert.match(facts.binds![0], /^tcp:\/\/(0\.0\.0\.0|\[::]):4000$/)
        assert.deepEqual(facts.unresolved, [])
      })

      it(`Puma ${version}: a conditional control app with a token; a bare one is 'auto' with no token`, async () => {
        const pumaLib = await lib()
        writeConfig(
          "activate_control_app 'tcp://127.0.0.1:9293', auth_token: 'real-Token-42' if File.exist?(__FILE__)\nplugin :tmp_restart\n",
        )
        const pinned = await readPumaConfig(
          'config/puma.rb',
          {appFolder: app, ruby: {pumaLib}},
          {env: {...process.env}},
        )
        assert.equal(pinned.how, 'ruby', pinned.rubyNote)
        assert.equal(pinned.controlUrl, 'tcp://127.0.0.1:9293')
        assert.equal(pinned.controlToken, 'real-Token-42')
        writeConfig('activate_control_app if Dir.exist?(__dir__)\n')
        const bare = await readPumaConfig('config/puma.rb', {appFolder: app, ruby: {pumaLib}})
        assert.equal(bare.how, 'ruby', bare.rubyNote)
        assert.equal(bare.controlUrl, 'auto')
        assert.equal(bare.controlToken, undefined)
      })
    }

    it("runs the config as its owner when ctl is root (setpriv to the file's owner)", async function () {
      if (process.geteuid?.() !== 0) this.skip()
      const path = writeConfig('tag "uid-#{Process.uid}-euid-#{Process.euid}"\n')
      chownSync(path, nobody, nobody)
      const facts = await readPumaConfig(path, {appFolder: app, ruby: {}})
      assert.equal(facts.how, 'ruby', facts.rubyNote)
      assert.equal(facts.tag, `uid-${nobody}-euid-${nobody}`)
    })

    it('refuses a group-writable config without running it, and says why', async () => {
      const marker = join(root, 'ran')
      const path = writeConfig(`File.write(${JSON.stringify(marker)}, 'ran')\npidfile some_method\n`)
      chmodSync(path, 0o664)
      // Group root counts as root: give the file an ordinary group
      if (process.geteuid?.() === 0) chownSync(path, 0, nobody)
      const facts = await readPumaConfig(path, {appFolder: app, ruby: {}})
      assert.equal(facts.how, 'static')
      assert.deepEqual(facts.unresolved, ['pidfile'])
      assert.equal(facts.rubyNote, 'Ruby was not run: the file is writable by its group or by everyone')
      assert.ok(!existsSync(marker), 'the config ran')
    })

    it('kills a config that sleeps 30 s at the time bound', async () => {
      const pidPath = join(root, 'ruby.pid')
      const path = writeConfig(
        `File.write(${JSON.stringify(pidPath)}, Process.pid.to_s)\nsleep 30\npidfile some_method\n`,
      )
      const started = Date.now()
      const facts = await readPumaConfig(path, {appFolder: app, ruby: {timeoutMs: 2000}})
      const elapsed = Date.now() - started
      assert.equal(facts.rubyNote, 'Ruby did not finish within 2 s and was killed')
      assert.ok(elapsed < 10_000, `took ${elapsed} ms`)
      const pid = Number(readFileSync(pidPath, 'utf8'))
      assert.equal(isAlive(pid), false, `ruby ${pid} still runs`)
    })
  })

  describe('the static reading agrees with Puma 8.0.2 wherever it resolves everything', function () {
    this.timeout(120_000)
    const fixtures = [
      'rails-6/puma.rb',
      'rails-7.1/puma.rb',
      'rails-8/puma.rb',
      'capistrano-production.rb',
      'debian-systemd.rb',
      'port-only.rb',
      'bare-control.rb',
      'digitalocean.rb',
      'env-specific/config/puma.rb',
      'env-specific/config/puma/production.rb',
      // the bundled example app's own config
      join('..', '..', '..', 'examples', 'app', 'puma.rb'),
    ]
    const envs: Array<Record<string, string>> = [
      {},
      {PIDFILE: 'tmp/x.pid', PORT: '4567', PUMA_WORKERS: '5', PUMACTL_TOKEN: 'env-Token', RAILS_ENV: 'staging'},
    ]
    let root: string
    let pumaLib: string
    let defaultHost: string

    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'ctl-config-agree-'))
      chmodSync(root, 0o755)
      pumaLib = join(dirname(await realPuma('8.0.2')), '..', 'src', 'lib')
      // Puma 8 binds `port` to [::] where IPv6 is up, else 0.0.0.0: ask it which, here.
      const file = join(root, 'probe.rb')
      writeFileSync(file, 'port 1\n')
      const probe = await rubyFactsOr(
        {how: 'static', path: file, reasons: [], unresolved: []},
        {appFolder: root, file, real: file, ruby: {pumaLib}},
        {env: {}},
      )
      defaultHost = /^tcp:\/\/\[::]/.test(probe.binds?.[0] ?? '') ? '::' : '0.0.0.0'
    })

    after(() => rmSync(root, {force: true, recursive: true}))

    for (const name of fixtures) {
      it(name, async () => {
        const app = mkdtempSync(join(root, 'app-'))
        chmodSync(app, 0o755)
        mkdirSync(join(app, 'config'))
        const file = join(app, 'config', 'puma.rb')
        copyFileSync(join(fixturesDir, 'configs', name), file)
        chmodSync(file, 0o644)
        for (const env of envs) {
          // eslint-disable-next-line no-await-in-loop -- one environment at a time, for a clear failure
          const fromStatic = await readPumaConfig(file, {appFolder: app, defaultHost}, {env})
          assert.deepEqual(fromStatic.unresolved, [], JSON.stringify(env))
          // eslint-disable-next-line no-await-in-loop -- as above
          const fromRuby = await rubyFactsOr(
            fromStatic,
            {appFolder: app, file, real: file, ruby: {pumaLib}},
            {env: {PATH: process.env.PATH, ...env}},
          )
          assert.equal(fromRuby.how, 'ruby', fromRuby.rubyNote)
          assert.deepEqual(withoutHow(fromRuby), withoutHow(fromStatic), JSON.stringify(env))
        }
      })
    }
  })
})
