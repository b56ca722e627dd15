import {strict as assert} from 'node:assert'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {CtlError, EXIT} from '../../src/errors.js'
import {withConfig} from '../../src/target/config-target.js'

describe('the target from Puma config files (withConfig)', () => {
  let app: string
  const config = (relative: string, text: string) => {
    mkdirSync(join(app, relative, '..'), {recursive: true})
    writeFileSync(join(app, relative), text)
  }

  beforeEach(() => {
    app = mkdtempSync(join(tmpdir(), 'ctl-config-target-'))
  })

  afterEach(() => rmSync(app, {recursive: true, force: true}))

  it("the default config's state file, preferred to its pidfile; relative to the app folder", async () => {
    config('config/puma.rb', "pidfile 'tmp/pids/other.pid'\nstate_path 'tmp/pids/app.state'\n")
    const selector = await withConfig({cwd: app}, {})
    assert.equal(selector.state, join(app, 'tmp/pids/app.state'))
    assert.equal(selector.pidfile, undefined)
    assert.equal(selector.configOrigin, 'config/puma.rb, read statically')
    assert.equal(selector.namedByConfig, join(app, 'config/puma.rb'))
  })

  it('config/puma/<env>.rb first, the env from -e, else RAILS_ENV and friends', async () => {
    config('config/puma.rb', "pidfile 'tmp/default.pid'\n")
    config('config/puma/production.rb', "pidfile 'tmp/production.pid'\n")
    assert.equal((await withConfig({cwd: app, environment: 'production'}, {})).pidfile, join(app, 'tmp/production.pid'))
    assert.equal((await withConfig({cwd: app}, {RAILS_ENV: 'production'})).pidfile, join(app, 'tmp/production.pid'))
    assert.equal((await withConfig({cwd: app}, {})).pidfile, join(app, 'tmp/default.pid'))
  })

  it('a flag wins over the config (pumactl: ||=); with -F the config is still read, for status', async () => {
    config('config/puma.rb', "pidfile 'tmp/from-config.pid'\n")
    const flagged = await withConfig({cwd: app, configFile: 'config/puma.rb', pidfile: 'mine.pid'}, {})
    assert.equal(flagged.pidfile, 'mine.pid')
    assert.equal(flagged.namedByConfig, undefined)
    assert.equal(flagged.configOrigin, 'config/puma.rb, read statically')
  })

  it('no default config is read when a default pidfile or state file is here, or a flag names the master', async () => {
    config('config/puma.rb', "pidfile 'tmp/from-config.pid'\n")
    assert.equal((await withConfig({cwd: app, tag: 'x'}, {})).configOrigin, undefined)
    config('tmp/pids/puma.pid', '123\n')
    assert.deepEqual(await withConfig({cwd: app}, {}), {cwd: app})
  })

  it('only a control server: its URL and token (never for a bare activate_control_app)', async () => {
    config('config/puma.rb', "activate_control_app 'tcp://127.0.0.1:9293', { auth_token: 's3cret' }\n")
    const selector = await withConfig({cwd: app}, {})
    assert.equal(selector.controlUrl, 'tcp://127.0.0.1:9293')
    assert.equal(selector.controlToken, 's3cret')
    config('config/puma.rb', 'activate_control_app\n')
    assert.equal((await withConfig({cwd: app}, {})).controlUrl, undefined)
  })

  it('a path that is no path (a file read into state_path, a secret from ENV with newlines): exit 3, never shown', async () => {
    const secret = 'root:$6$saltsalt$hashhashhash:20228:0:99999:7:::'
    const cases = [`state_path "${secret}\\n${secret}\\n"`, `pidfile '${'x'.repeat(2000)}'`]
    for (const source of cases) {
      config('config/puma.rb', `${source}\n`)
      // eslint-disable-next-line no-await-in-loop -- one config at a time
      await assert.rejects(withConfig({cwd: app}, {}), (error: CtlError) => {
        assert.equal(error.exitCode, EXIT.noMaster)
        assert.match(
          error.message,
          /^config\/puma\.rb, read statically: its (state_path|pidfile) is not a file's path \(/,
        )
        assert.ok(!error.message.includes('hash') && !error.message.includes('xxxx'), error.message)
        return true
      })
    }
  })

  it('-F naming a file that names no master (/etc/shadow, a config without them): exit 3, not a process scan', async () => {
    config('other.rb', 'workers 2\n')
    config('unreadable.rb', 'state_path some_method\n')
    const cases: Array<[string, RegExp]> = [
      ['other.rb', /^other\.rb, read statically names no pidfile, state_path or control server$/],
      ['unreadable.rb', /^unreadable\.rb, read statically: ctl could not read its state_path \(.+\)$/],
    ]
    for (const [file, message] of cases) {
      // eslint-disable-next-line no-await-in-loop -- one config at a time
      await assert.rejects(withConfig({cwd: app, configFile: file}, {}), (error: CtlError) => {
        assert.equal(error.exitCode, EXIT.noMaster)
        assert.match(error.message, message)
        return true
      })
    }

    // a flag naming the master, or a control URL, is enough
    assert.equal((await withConfig({cwd: app, configFile: 'other.rb', pid: 123}, {})).pid, 123)
    assert.equal(
      (await withConfig({cwd: app, configFile: 'other.rb', controlUrl: 'unix:///x'}, {})).controlUrl,
      'unix:///x',
    )
  })

  it('is read once: a selector that has been through it comes back as it is', async () => {
    config('config/puma.rb', "pidfile 'tmp/a.pid'\n")
    const once = await withConfig({cwd: app}, {})
    config('config/puma.rb', "pidfile 'tmp/b.pid'\n")
    assert.deepEqual(await withConfig(once, {}), once)
  })
})
