import {strict as assert} from 'node:assert'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {CtlError, EXIT} from '../../src/errors.js'
import {parseRubyOutput, type RunOptions, type RunResult} from '../../src/target/config-ruby.js'
import {type FileOwnership, refusalToRun, runAsFor} from '../../src/target/config-safety.js'
import {
  configEnvironment,
  defaultConfigFiles,
  type PumaConfigFacts,
  readPumaConfig,
  type ReadPumaConfigDeps,
} from '../../src/target/puma-config.js'
import {fixturesDir} from '../helpers/paths.js'

const configs = join(fixturesDir, 'configs')
const app = '/srv/app'

/** Reads a fixture (or inline source, as `inline.rb`) with `env` as the whole environment. */
async function read(
  name: string,
  env: Record<string, string> = {},
  options: Partial<Parameters<typeof readPumaConfig>[1]> = {},
  deps: ReadPumaConfigDeps = {},
): Promise<PumaConfigFacts> {
  return readPumaConfig(join(configs, name), {appFolder: app, ...options}, {env, ...deps})
}

async function readSource(
  source: string,
  env: Record<string, string> = {},
  deps: ReadPumaConfigDeps = {},
  options = {},
): Promise<PumaConfigFacts> {
  return readPumaConfig(
    'config/puma.rb',
    {appFolder: app, ...options},
    {env, readFile: async () => source, realpath: async (p) => p, ...deps},
  )
}

/** The facts without the bookkeeping fields, for compact deepEquals. */
function settings(facts: PumaConfigFacts): Partial<PumaConfigFacts> {
  const rest: Partial<PumaConfigFacts> = {...facts}
  for (const key of ['how', 'path', 'reasons', 'rubyNote'] as const) delete rest[key]
  return rest
}

const owned = (uid: number, mode: number, gid = uid): FileOwnership => ({gid, mode, uid})

/** A file system of owners and modes; folders not listed are root's and 0755. */
function fakeStat(entries: Record<string, FileOwnership>) {
  return async (path: string) => entries[path] ?? owned(0, 0o4_0755)
}

describe('puma-config', () => {
  describe('readPumaConfig: the static reading of real configs', () => {
    it("reads Rails 6's generated config/puma.rb: ENV.fetch blocks give their literal defaults", async () => {
      const facts = await read('rails-6/puma.rb')
      assert.equal(facts.how, 'static')
      assert.deepEqual(settings(facts), {
        binds: ['tcp://0.0.0.0:3000'],
        environment: 'development',
        pidfile: '/srv/app/tmp/pids/server.pid',
        unresolved: [],
        workerTimeout: 3600, // `worker_timeout 3600 if … == "development"`
      })
    })

    it('takes PORT, RAILS_ENV and PIDFILE from the injected environment over the defaults', async () => {
      const facts = await read('rails-6/puma.rb', {PIDFILE: '/run/app/puma.pid', PORT: '5000', RAILS_ENV: 'production'})
      assert.deepEqual(settings(facts), {
        binds: ['tcp://0.0.0.0:5000'],
        environment: 'production',
        pidfile: '/run/app/puma.pid',
        unresolved: [],
      })
    })

    it("reads Rails 7.1's template: the production-only workers block is skipped in development", async () => {
      assert.deepEqual(settings(await read('rails-7.1/puma.rb')), {
        binds: ['tcp://0.0.0.0:3000'],
        environment: 'development',
        pidfile: '/srv/app/tmp/pids/server.pid',
        unresolved: [],
        workerTimeout: 3600,
      })
    })

    it("Rails 7.1 in production: workers from WEB_CONCURRENCY; without it, the processor count is Ruby's to tell", async () => {
      const withCount = await read('rails-7.1/puma.rb', {RAILS_ENV: 'production', WEB_CONCURRENCY: '4'})
      assert.equal(withCount.workers, 4)
      assert.deepEqual(withCount.unresolved, [])
      const single = await read('rails-7.1/puma.rb', {RAILS_ENV: 'production', WEB_CONCURRENCY: '1'})
      assert.equal(single.workers, undefined, '`workers worker_count if worker_count > 1` is false: not set')
      assert.deepEqual(single.unresolved, [])
      const unknown = await read('rails-7.1/puma.rb', {RAILS_ENV: 'production'})
      assert.deepEqual(unknown.unresolved, ['workers'])
      assert.equal(unknown.workers, undefined)
      assert.deepEqual(unknown.reasons, [
        {
          line: 13,
          setting: 'workers',
          why: 'depends on a condition it cannot evaluate (line 13: it calls Concurrent.physical_processor_count)',
        },
      ])
      assert.equal(unknown.pidfile, '/srv/app/tmp/pids/server.pid', 'the rest is still read')
    })

    it('reads Rails 8\'s template: `pidfile ENV["PIDFILE"] if ENV["PIDFILE"]` sets nothing unless PIDFILE is set', async () => {
      assert.deepEqual(settings(await read('rails-8/puma.rb')), {binds: ['tcp://0.0.0.0:3000'], unresolved: []})
      const withPidfile = await read('rails-8/puma.rb', {
        PIDFILE: 'tmp/pids/server.pid',
        PORT: '4001',
        SOLID_QUEUE_IN_PUMA: '1',
      })
      assert.deepEqual(settings(withPidfile), {
        binds: ['tcp://0.0.0.0:4001'],
        pidfile: '/srv/app/tmp/pids/server.pid',
        unresolved: [],
      })
    })

    it('reads a Capistrano production config: local variables, interpolation, directory, the control app and its token', async () => {
      const facts = await read('capistrano-production.rb')
      assert.deepEqual(settings(facts), {
        binds: ['unix:///srv/shop/shared/tmp/sockets/puma.sock'],
        controlDataOnly: false,
        controlToken: 'cap-fixture-Token-7Q2',
        controlUrl: 'tcp://127.0.0.1:9293',
        directory: '/srv/shop/current',
        environment: 'production',
        pidfile: '/srv/shop/shared/tmp/pids/puma.pid',
        preloadApp: true,
        statePath: '/srv/shop/shared/tmp/pids/puma.state',
        tag: 'shop',
        unresolved: [],
        workers: 3,
      })
      assert.equal((await read('capistrano-production.rb', {PUMA_WORKERS: '6'})).workers, 6)
    })

    it('reads a Debian/systemd service config: two binds, fork_worker, a data-only control server without a token', async () => {
      assert.deepEqual(settings(await read('debian-systemd.rb')), {
        binds: ['unix:///run/blog/puma.sock', 'tcp://127.0.0.1:8081'],
        controlDataOnly: true,
        controlToken: 'none',
        controlUrl: 'unix:///run/blog/pumactl.sock',
        directory: '/var/www/blog',
        environment: 'production',
        forkWorker: 1000,
        pidfile: '/run/blog/puma.pid',
        statePath: '/run/blog/puma.state',
        tag: 'blog',
        unresolved: [],
        workers: 2,
      })
    })

    it('leaves a pidfile chosen by an if/else on the file system, and a state path chosen by a ternary, unresolved', async () => {
      const facts = await read('conditional-pidfile.rb')
      assert.deepEqual(settings(facts), {
        binds: ['tcp://0.0.0.0:3000'],
        unresolved: ['pidfile', 'state_path'],
        workers: 2,
      })
      assert.deepEqual(
        facts.reasons.map(({line, setting}) => ({line, setting})),
        [
          {line: 5, setting: 'pidfile'},
          {line: 9, setting: 'state_path'},
        ],
      )
      assert.match(facts.reasons[0].why, /condition it cannot evaluate \(line 2: it calls File\.exist\?\)/)
      assert.equal(facts.rubyNote, 'Ruby was not asked to read it')
    })

    it("binds `port` alone to Puma's default host: 0.0.0.0, or [::] as Puma 8 does where IPv6 is up", async () => {
      assert.deepEqual(settings(await read('port-only.rb')), {binds: ['tcp://0.0.0.0:9393'], unresolved: []})
      assert.deepEqual((await read('port-only.rb', {}, {defaultHost: '::'})).binds, ['tcp://[::]:9393'])
      assert.deepEqual((await readSource("set_default_host '127.0.0.1'\nport 8080\nport 8081, 'localhost'\n")).binds, [
        'tcp://127.0.0.1:8080',
        'tcp://localhost:8081',
      ])
    })

    it("reads a bare activate_control_app as Puma's 'auto' with a random token, and resolves a relative state_path", async () => {
      assert.deepEqual(settings(await read('bare-control.rb')), {
        controlDataOnly: false,
        controlUrl: 'auto',
        statePath: '/srv/app/tmp/puma.state',
        unresolved: [],
      })
    })

    it('reads config/puma/production.rb: relative paths against the app folder, a token from ENV.fetch with a default', async () => {
      const facts = await read('env-specific/config/puma/production.rb', {PUMACTL_TOKEN: 'from-env-Token'})
      assert.deepEqual(settings(facts), {
        binds: ['unix://tmp/sockets/puma.sock'],
        controlDataOnly: false,
        controlToken: 'from-env-Token',
        controlUrl: 'unix://tmp/sockets/pumactl.sock',
        environment: 'production',
        pidfile: '/srv/app/tmp/pids/puma.pid',
        preloadApp: true,
        statePath: '/srv/app/tmp/pids/puma.state',
        unresolved: [],
        workers: 2,
      })
    })

    it('follows File.expand_path("../..", __FILE__) and `ENV[...] || default` (the DigitalOcean-style config)', async () => {
      const facts = await read('digitalocean.rb')
      const shared = join(fixturesDir, 'shared')
      assert.deepEqual(settings(facts), {
        binds: [`unix://${shared}/sockets/puma.sock`],
        controlDataOnly: false,
        controlUrl: 'auto',
        environment: 'production',
        pidfile: `${shared}/pids/puma.pid`,
        statePath: `${shared}/pids/puma.state`,
        unresolved: [],
        workers: 2,
      })
    })

    it('leaves a path built by a method the file defines unresolved, and normalizes File.join(__dir__, "..")', async () => {
      const facts = await read('helper-method.rb')
      assert.deepEqual(settings(facts), {
        binds: ['tcp://0.0.0.0:4000'],
        statePath: join(configs, '..', 'tmp', 'pids', 'puma.state'),
        unresolved: ['pidfile'],
      })
      assert.match(facts.reasons[0].why, /calls app_path/)
    })
  })

  describe('readPumaConfig: the rules of the static reading', () => {
    it("lets the last unconditional setting win, as Puma's DSL does", async () => {
      assert.equal((await readSource("pidfile 'a.pid'\npidfile 'b.pid'\n")).pidfile, '/srv/app/b.pid')
    })

    it('a setting under a condition it cannot evaluate is unresolved until set again unconditionally', async () => {
      const conditional = await readSource("pidfile 'a.pid'\nif some_check\n  pidfile 'b.pid'\nend\n")
      assert.deepEqual(conditional.unresolved, ['pidfile'])
      assert.equal(conditional.pidfile, undefined)
      const reset = await readSource("pidfile 'a.pid'\nif some_check\n  pidfile 'b.pid'\nend\npidfile 'c.pid'\n")
      assert.deepEqual(reset.unresolved, [])
      assert.equal(reset.pidfile, '/srv/app/c.pid')
    })

    it('evaluates unless/elsif/else and ternaries on ENV, and `||=`', async () => {
      const source = [
        "unless ENV['BLUE']",
        "  pidfile 'green.pid'",
        'end',
        "if ENV['STAGE'] == 'a'",
        "  tag 'a'",
        "elsif ENV['STAGE'] == 'b'",
        "  tag 'b'",
        'else',
        "  tag 'z'",
        'end',
        "unset = ENV['UNSET']",
        "root ||= unset || '/opt/x'",
        "directory ENV['DIR'] ? ENV['DIR'] : root",
      ].join('\n')
      assert.deepEqual(settings(await readSource(source, {STAGE: 'b'})), {
        directory: '/opt/x',
        pidfile: '/opt/x/green.pid',
        tag: 'b',
        unresolved: [],
      })
      assert.deepEqual(settings(await readSource(source, {BLUE: '1', DIR: '/d', STAGE: 'q'})), {
        directory: '/d',
        tag: 'z',
        unresolved: [],
      })
    })

    it('leaves `pidfile some_method` and ENV.fetch without a default of an unset variable unresolved, saying why', async () => {
      const facts = await readSource("pidfile some_method\nstate_path ENV.fetch('STATE_FILE')\n")
      assert.deepEqual(facts.unresolved, ['pidfile', 'state_path'])
      assert.match(facts.reasons[0].why, /calls some_method, which it does not know/)
      assert.match(facts.reasons[1].why, /ENV\.fetch\("STATE_FILE"\) without a default and STATE_FILE is unset/)
      assert.equal((await readSource("state_path ENV.fetch('STATE_FILE')\n", {STATE_FILE: '/s'})).statePath, '/s')
    })

    it('is not fooled by heredocs, =begin comments, %w lists, regexps or hooks', async () => {
      const source = [
        'notes = <<~TXT',
        "  pidfile 'in-a-heredoc.pid'",
        'TXT',
        '=begin',
        "pidfile 'commented-out.pid'",
        '=end',
        'ports = %w[3000 3001]',
        "quiet = ENV['LOG'] =~ /quiet/",
        "pidfile 'tmp/real.pid' # the real one",
        'on_worker_boot do |index|',
        '  File.write("tmp/worker-#{index}", \'x\') if index.zero?',
        'end',
        'lowlevel_error_handler { |e| [500, {}, ["oops"]] }',
      ].join('\n')
      assert.deepEqual(settings(await readSource(source)), {pidfile: '/srv/app/tmp/real.pid', unresolved: []})
    })

    it('settings inside loops, other blocks and methods the file calls are unresolved', async () => {
      const loop = await readSource('[3000, 3001].each { |p| port p }\n')
      assert.deepEqual(loop.unresolved, ['port'])
      assert.equal(loop.binds, undefined)
      const method = await readSource("def paths\n  pidfile 'x.pid'\nend\npaths\n")
      assert.deepEqual(method.unresolved, ['pidfile'])
      const given = await readSource("pidfile ENV.fetch('PIDFILE') do 'x.pid' end\n")
      assert.deepEqual(given.unresolved, ['pidfile'])
      const evaluated = await readSource("pidfile 'x.pid'\ninstance_eval(File.read('more.rb'))\n")
      assert.ok(evaluated.unresolved.includes('pidfile') && evaluated.unresolved.includes('activate_control_app'))
    })

    it('nesting deeper than the reader goes, and strings that grow without end: unresolved, never a crash', async function () {
      this.timeout(10_000) // each case reads in well under a second; nested blocks took 20 s each before
      const deep = 20_000
      const sources = [
        `state_path "${'#{"'.repeat(deep)}x${'"}'.repeat(deep)}"`,
        `state_path ${'('.repeat(deep)}'x'${')'.repeat(deep)}`,
        `state_path ${'['.repeat(deep)}'x'${']'.repeat(deep)}`,
        `state_path ${'!'.repeat(deep)}true`,
        `state_path ${'true ? '.repeat(deep)}'x'${" : 'y'".repeat(deep)}`,
        `${'if true\n'.repeat(deep)}state_path 'x'\n${'end\n'.repeat(deep)}`,
        `a = 'x'\n${'a = a + a\n'.repeat(64)}state_path a`,
        `state_path ${'ENV.fetch("A") { '.repeat(deep)}'x'${' }'.repeat(deep)}`,
      ]
      for (const source of sources) {
        // eslint-disable-next-line no-await-in-loop -- one file at a time, for a clear failure
        const facts = await readSource(source)
        assert.deepEqual(facts.unresolved, ['state_path'], source.slice(0, 40))
        assert.equal(facts.statePath, undefined)
      }
    })

    it('a file it cannot parse leaves every setting it names unresolved rather than half-read', async () => {
      const facts = await readSource("pidfile 'a.pid'\nend\nstate_path 'b.state'\n")
      assert.deepEqual(facts.unresolved, ['pidfile', 'state_path'])
      assert.equal(facts.pidfile, undefined)
    })

    it('resolves relative paths against `directory` when the file sets one', async () => {
      const facts = await readSource(
        "directory '/srv/other/current'\npidfile 'tmp/pids/puma.pid'\nstate_path '../shared/puma.state'\n",
      )
      assert.equal(facts.pidfile, '/srv/other/current/tmp/pids/puma.pid')
      assert.equal(facts.statePath, '/srv/other/shared/puma.state')
    })

    it('never puts a token in a reason or a note, whatever the file does with it', async () => {
      const token = 'tok-NEVER-SHOWN-93'
      const sources = [
        `activate_control_app 'tcp://127.0.0.1:9293', auth_token: '${token}' if some_check`,
        `activate_control_app 'tcp://127.0.0.1:9293', { auth_token: "${token}#{suffix}" }`,
        `activate_control_app "tcp://127.0.0.1:#{ENV.fetch('CTL_PORT')}", auth_token: '${token}'`,
        `t = '${token}'\nactivate_control_app 'tcp://127.0.0.1:9293', auth_token: t.reverse`,
        `activate_control_app 'tcp://127.0.0.1:9293', auth_token: '${token}'\nend`,
      ]
      for (const source of sources) {
        // eslint-disable-next-line no-await-in-loop -- one file at a time, for a clear failure
        const facts = await readSource(source)
        assert.deepEqual(facts.unresolved, ['activate_control_app'], source)
        assert.ok(!JSON.stringify(facts).includes(token), `token leaked reading: ${source}`)
      }
    })
  })

  describe('defaultConfigFiles and configEnvironment', () => {
    it("lists pumactl's files in its order: config/puma/<env>.rb, then config/puma.rb", () => {
      assert.deepEqual(defaultConfigFiles('/srv/app', 'production'), [
        '/srv/app/config/puma/production.rb',
        '/srv/app/config/puma.rb',
      ])
    })

    it('takes the environment from -e, else APP_ENV, RACK_ENV, RAILS_ENV, else development', () => {
      const env = {APP_ENV: 'a', RACK_ENV: 'b', RAILS_ENV: 'c'}
      assert.equal(configEnvironment('staging', env), 'staging')
      assert.equal(configEnvironment(undefined, env), 'a')
      assert.equal(configEnvironment(undefined, {RACK_ENV: 'b', RAILS_ENV: 'c'}), 'b')
      assert.equal(configEnvironment(undefined, {RAILS_ENV: 'c'}), 'c')
      assert.equal(configEnvironment(undefined, {}), 'development')
    })

    it('a missing or unreadable config file is a clear error', async () => {
      await assert.rejects(
        read('no-such.rb'),
        (error: CtlError) =>
          error.exitCode === EXIT.usage && /config file .*no-such\.rb does not exist/.test(error.message),
      )
    })

    it('-F naming a FIFO, /dev/zero or a huge file: a clear error at once, nothing waited for or read whole', async () => {
      const folder = mkdtempSync(join(tmpdir(), 'ctl-config-files-'))
      try {
        execFileSync('mkfifo', [join(folder, 'fifo.rb')])
        writeFileSync(join(folder, 'huge.rb'), `${'# padding\n'.repeat(300_000)}pidfile 'tmp/x.pid'\n`)
        const cases: Array<[string, RegExp]> = [
          [join(folder, 'fifo.rb'), /^config file .*fifo\.rb is not a regular file$/],
          ['/dev/zero', /^config file \/dev\/zero is not a regular file$/],
          [join(folder, 'huge.rb'), /^config file .*huge\.rb is not a Puma config: it holds 3000\d+ bytes$/],
        ]
        for (const [path, message] of cases) {
          // eslint-disable-next-line no-await-in-loop -- one file at a time, for a clear failure
          await assert.rejects(readPumaConfig(path, {appFolder: folder}, {env: {}}), (error: CtlError) => {
            assert.equal(error.exitCode, EXIT.usage, String(error))
            assert.match(error.message, message)
            return true
          })
        }
      } finally {
        rmSync(folder, {recursive: true, force: true})
      }
    })
  })

  describe('config-safety: when Ruby may read a config', () => {
    const paths = {file: '/srv/app/config/puma.rb', real: '/srv/app/config/puma.rb'}

    it('runs a file writable only by its owner, in folders only its owner and root can change', async () => {
      const stat = fakeStat({
        '/srv/app': owned(1000, 0o4_0755),
        '/srv/app/config': owned(1000, 0o4_0755),
        [paths.real]: owned(1000, 0o10_0644),
      })
      assert.equal(await refusalToRun(paths, stat, 0), undefined)
      assert.equal(await refusalToRun(paths, stat, 1000), undefined)
    })

    it('refuses a group- or world-writable file, and a folder others can change (unless sticky or group root)', async () => {
      assert.match(
        (await refusalToRun(paths, fakeStat({[paths.real]: owned(1000, 0o10_0664)}), 0))!,
        /file is writable by its group or by everyone/,
      )
      assert.match(
        (await refusalToRun(paths, fakeStat({[paths.real]: owned(1000, 0o10_0646)}), 0))!,
        /file is writable/,
      )
      const worldFolder = fakeStat({'/srv/app/config': owned(1000, 0o4_0777), [paths.real]: owned(1000, 0o10_0644)})
      assert.match(
        (await refusalToRun(paths, worldFolder, 0))!,
        /folder \/srv\/app\/config is writable by its group or by everyone/,
      )
      const groupRoot = fakeStat({'/srv/app/config': owned(0, 0o4_0775, 0), [paths.real]: owned(1000, 0o10_0664, 0)})
      assert.equal(await refusalToRun(paths, groupRoot, 0), undefined, 'group root counts as root')
      const sticky = fakeStat({'/srv/app/config': owned(0, 0o4_1777), [paths.real]: owned(1000, 0o10_0644)})
      assert.equal(await refusalToRun(paths, sticky, 0), undefined)
      const othersFolder = fakeStat({'/srv': owned(1001, 0o4_0755), [paths.real]: owned(1000, 0o10_0644)})
      assert.match((await refusalToRun(paths, othersFolder, 0))!, /folder \/srv belongs to another user \(uid 1001\)/)
    })

    it("checks the symlink's folders as well as the real file's, and Puma's library", async () => {
      const linked = {file: '/srv/app/current/config/puma.rb', real: '/srv/app/releases/1/config/puma.rb'}
      const stat = fakeStat({'/srv/app/current': owned(1002, 0o4_0755), [linked.real]: owned(1000, 0o10_0644)})
      assert.match((await refusalToRun(linked, stat, 0))!, /\/srv\/app\/current belongs to another user/)
      const lib = fakeStat({'/opt/gems/puma/lib/puma': owned(1003, 0o4_0755), [paths.real]: owned(1000, 0o10_0644)})
      assert.match(
        (await refusalToRun(paths, lib, 0, ['/opt/gems/puma/lib/puma']))!,
        /^Puma's library: the folder .* belongs to another user/,
      )
    })

    it("refuses another user's file when ctl is not root; root drops to the owner", async () => {
      assert.match(
        (await refusalToRun(paths, fakeStat({[paths.real]: owned(1000, 0o10_0644)}), 1001))!,
        /belongs to another user \(uid 1000\)/,
      )
      assert.equal(
        await refusalToRun(paths, fakeStat({[paths.real]: owned(0, 0o10_0644)}), 1001),
        undefined,
        "root's file runs as ctl's user",
      )
      assert.deepEqual(runAsFor({gid: 50, uid: 1000}, 0), {gid: 50, kind: 'drop', uid: 1000})
      assert.deepEqual(runAsFor({gid: 0, uid: 0}, 0), {kind: 'self'})
      assert.deepEqual(runAsFor({gid: 0, uid: 0}, 1000), {kind: 'self'})
    })
  })

  describe('readPumaConfig: when and how Ruby is asked', () => {
    const okOutput =
      '{"ok":{"control_url":"tcp://127.0.0.1:9293","control_auth_token":"ruby-Token-8","pidfile":"tmp/pids/from-ruby.pid","puma":"8.0.2"}}'
    function fakeRun(result: Partial<RunResult> = {}) {
      const calls: Array<{args: string[]; command: string; options: RunOptions}> = []
      const run = async (command: string, args: string[], options: RunOptions): Promise<RunResult> => {
        calls.push({args, command, options})
        return {code: 0, overflow: false, signal: null, stdout: okOutput, timedOut: false, ...result}
      }

      return {calls, run}
    }

    const safe = fakeStat({
      '/srv/app': owned(1000, 0o4_0755),
      '/srv/app/config': owned(1000, 0o4_0755),
      '/srv/app/config/puma.rb': owned(1000, 0o10_0644),
    })

    it('never runs Ruby when the static reading suffices, nor when the caller does not allow it', async () => {
      const {calls, run} = fakeRun()
      assert.equal((await readSource("pidfile 'a.pid'\n", {}, {run, stat: safe}, {ruby: {}})).how, 'static')
      const notAllowed = await readSource('pidfile some_method\n', {}, {run, stat: safe})
      assert.equal(notAllowed.rubyNote, 'Ruby was not asked to read it')
      const notNeeded = await readSource(
        'workers some_method\n',
        {},
        {run, stat: safe},
        {needed: ['pidfile'], ruby: {}},
      )
      assert.deepEqual(notNeeded.unresolved, ['workers'])
      assert.equal(calls.length, 0)
    })

    it("root runs it through setpriv as the file's owner, with the owner's group and HOME, without RUBYOPT", async () => {
      const {calls, run} = fakeRun()
      const deps = {euid: () => 0, lookupUser: async () => ({gid: 1000, home: '/home/deploy'}), run, stat: safe}
      const facts = await readSource('pidfile some_method\n', {PATH: '/usr/bin', RUBYOPT: '-rsomething'}, deps, {
        ruby: {pumaLib: '/opt/puma/lib'},
      })
      assert.deepEqual(settings(facts), {
        controlToken: 'ruby-Token-8',
        controlDataOnly: false,
        controlUrl: 'tcp://127.0.0.1:9293',
        pidfile: '/srv/app/tmp/pids/from-ruby.pid',
        pumaVersion: '8.0.2',
        unresolved: [],
      })
      assert.equal(facts.how, 'ruby')
      assert.equal(calls.length, 1)
      const [{args, command, options}] = calls
      assert.equal(command, 'setpriv')
      assert.deepEqual(args.slice(0, 5), ['--reuid=1000', '--regid=1000', '--init-groups', '--', 'ruby'])
      assert.deepEqual(args.slice(-3), ['--', '/srv/app/config/puma.rb', '/opt/puma/lib'])
      assert.deepEqual(options.env, {HOME: '/home/deploy', PATH: '/usr/bin'})
      assert.equal(options.cwd, app)
      assert.equal(options.timeoutMs, 5000)
    })

    it("root hands the owner's code none of its secrets: ctl's token and secret-named variables stay behind", async () => {
      const {calls, run} = fakeRun()
      const env = {
        AWS_SECRET_ACCESS_KEY: 's1',
        DATABASE_PASSWORD: 's2',
        GITHUB_TOKEN: 's3',
        PATH: '/usr/bin',
        PORT: '3000',
        PUMA_CTL_CONTROL_TOKEN: 's4',
        RAILS_ENV: 'production',
        SSH_AUTH_SOCK: '/tmp/ssh-x/agent.1',
      }
      const root = {euid: () => 0, lookupUser: async () => ({gid: 1000, home: '/home/deploy'}), run, stat: safe}
      await readSource('pidfile some_method\n', env, root, {ruby: {}})
      assert.deepEqual(calls[0].options.env, {
        HOME: '/home/deploy',
        PATH: '/usr/bin',
        PORT: '3000',
        RAILS_ENV: 'production',
      })
      // its own file, as itself: only ctl's own token stays behind
      const self = {euid: () => 1000, run, stat: safe}
      await readSource('pidfile some_method\n', env, self, {ruby: {}})
      const withoutCtls = Object.fromEntries(Object.entries(env).filter(([key]) => key !== 'PUMA_CTL_CONTROL_TOKEN'))
      assert.deepEqual(calls[1].options.env, withoutCtls)
    })

    it('refuses a writable config without running anything, and says why', async () => {
      const {calls, run} = fakeRun()
      const writable = fakeStat({'/srv/app/config/puma.rb': owned(1000, 0o10_0666)})
      const facts = await readSource('pidfile some_method\n', {}, {euid: () => 0, run, stat: writable}, {ruby: {}})
      assert.equal(calls.length, 0)
      assert.equal(facts.how, 'static')
      assert.deepEqual(facts.unresolved, ['pidfile'])
      assert.equal(facts.rubyNote, 'Ruby was not run: the file is writable by its group or by everyone')
    })

    it('describes a timeout, an overflow, a crash or an exception without echoing the output', async () => {
      const secret = 'printed-Token-77'
      const cases: Array<[Partial<RunResult>, RegExp]> = [
        [{stdout: '', timedOut: true}, /^Ruby did not finish within 5 s and was killed$/],
        [{overflow: true, stdout: secret}, /more than a config reading can/],
        [{code: 1, stdout: `${secret} undefined method`}, /^Ruby exited with status 1 without a reading$/],
        [{code: 127, stdout: ''}, /is ruby installed/],
        [{stdout: JSON.stringify({error: 'NameError', line: 3})}, /^Puma's reading raised NameError at line 3$/],
      ]
      for (const [result, expected] of cases) {
        const {run} = fakeRun(result)
        // eslint-disable-next-line no-await-in-loop -- one case at a time
        const facts = await readSource('pidfile some_method\n', {}, {euid: () => 1000, run, stat: safe}, {ruby: {}})
        assert.match(facts.rubyNote!, expected)
        assert.ok(!JSON.stringify(facts).includes(secret))
      }

      assert.deepEqual(
        parseRubyOutput({code: 0, overflow: false, signal: null, stdout: '[1]', timedOut: false}, 5000),
        {
          failure: 'Ruby printed something other than a reading',
        },
      )
    })
  })
})
