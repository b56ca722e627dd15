import {strict as assert} from 'node:assert'

import {reopenLogs} from '../../src/actions/reopen-logs.js'
import {CtlError, EXIT} from '../../src/errors.js'
import {
  checkRedirect,
  CONFIG_READ_BYTES,
  containsRedirectCall,
  markerTime,
  type RedirectSources,
} from '../../src/log/redirect-evidence.js'

const PID = 4321
const APP = '/srv/app'
const LOG = '/srv/app/log/puma.log'
const STARTED = new Date('2026-11-24T12:19:44.730Z')
const marker = (time: string) => `=== puma startup: ${time} ===`
const FRESH = marker('2026-11-24 12:19:45 +0000')
const BANNER = `[${PID}] Puma starting in cluster mode...`
const FORGED = marker('forged')

interface World {
  cwd?: string
  env?: Record<string, string>
  files: Record<string, string>
  /** fd 1's target; LOG unless set. */
  stdout?: string
}

/** Sources over an in-memory folder, recording every read with its size. */
function sourcesOf(world: World): RedirectSources & {reads: Array<[string, number]>} {
  const reads: Array<[string, number]> = []
  return {
    reads,
    details: () => ({cwd: 'cwd' in world ? world.cwd : APP, startedAt: STARTED, stdout: world.stdout ?? LOG}),
    environ: () => world.env,
    exists: (path) => path in world.files,
    isRegularFile: (path) => path in world.files,
    async readHead(path, bytes) {
      reads.push([path, bytes])
      if (!(path in world.files)) throw Object.assign(new Error(`ENOENT: ${path}`), {code: 'ENOENT'})
      return Buffer.from(world.files[path]).subarray(0, bytes)
    },
  }
}

const lines = (...text: string[]) => text.map((line) => `${line}\n`).join('')
const check = async (world: World, configs?: string[]) => checkRedirect(PID, {configs}, sourcesOf(world))
const noEnv = {} as Record<string, string>

describe('redirect evidence: does Puma write its stdout through stdout_redirect?', () => {
  describe("Puma's marker as the log's first line", () => {
    it('a fresh marker first: evidence "marker"', async () => {
      const result = await check({env: noEnv, files: {[LOG]: lines(FRESH, BANNER, 'app output')}})
      assert.deepEqual(result, {kind: 'redirected', log: LOG, evidence: 'marker'})
    })

    it('a marker written up to a second before the start time /proc shows still counts (seconds against ticks)', async () => {
      const result = await check({env: noEnv, files: {[LOG]: lines(marker('2026-11-24 12:19:43 +0000'))}})
      assert.equal(result.kind, 'redirected')
    })

    it('the marker in another zone is compared as the same instant', async () => {
      const result = await check({env: noEnv, files: {[LOG]: lines(marker('2026-11-24 07:19:45 -0500'))}})
      assert.equal(result.kind, 'redirected')
    })

    it('a stale marker from an older master does not count', async () => {
      const result = await check({env: noEnv, files: {[LOG]: lines(marker('2026-11-24 12:19:42 +0000'), BANNER)}})
      assert.equal(result.kind, 'no-evidence')
      assert.ok(
        result.kind === 'no-evidence' && result.reasons.includes("the log's startup marker is older than the master"),
      )
    })

    it('a marker in the middle of the file does not count', async () => {
      const result = await check({env: noEnv, files: {[LOG]: lines(BANNER, FRESH, 'more')}})
      assert.equal(result.kind, 'no-evidence')
    })

    it("a forged marker after the app's text does not count, nor a forged one that is not Puma's format", async () => {
      for (const log of [lines('GET /', FORGED, FRESH), lines(FORGED, BANNER), lines(`${FRESH} trailing`), FRESH]) {
        // eslint-disable-next-line no-await-in-loop -- one case after another
        const result = await check({env: noEnv, files: {[LOG]: log}})
        assert.equal(result.kind, 'no-evidence', JSON.stringify(log))
      }
    })

    it('reads only the head of the log, however big it is', async () => {
      const sources = sourcesOf({env: noEnv, files: {[LOG]: lines(BANNER) + 'x'.repeat(1_000_000)}})
      await checkRedirect(PID, {}, sources)
      const logReads = sources.reads.filter(([path]) => path === LOG)
      assert.equal(logReads.length, 1)
      assert.ok(logReads[0][1] <= 1024, `read ${logReads[0][1]} bytes of the log`)
    })

    it('parses Ruby Time#to_s with an offset, or UTC; anything else is no marker', () => {
      assert.equal(markerTime(FRESH), Date.UTC(2026, 10, 24, 12, 19, 45))
      assert.equal(markerTime(marker('2026-11-24 13:49:45 +0130')), Date.UTC(2026, 10, 24, 12, 19, 45))
      assert.equal(markerTime(marker('2026-11-24 12:19:45 UTC')), Date.UTC(2026, 10, 24, 12, 19, 45))
      assert.equal(markerTime(FORGED), undefined)
      assert.equal(markerTime(` ${FRESH}`), undefined)
    })
  })

  describe("Puma's config, read and not run", () => {
    const BIG_APPEND_LOG = lines(BANNER, 'x'.repeat(100 * 1024), FRESH) // appended: the marker is far down

    it('config/puma.rb with stdout_redirect in append mode and a big log: evidence "config PATH"', async () => {
      const config = lines('workers 2', "stdout_redirect 'log/puma.log', 'log/puma.log', true")
      const result = await check({env: noEnv, files: {[LOG]: BIG_APPEND_LOG, [`${APP}/config/puma.rb`]: config}})
      assert.deepEqual(result, {kind: 'redirected', log: LOG, evidence: `config ${APP}/config/puma.rb`})
    })

    it('config/puma.rb without stdout_redirect: no evidence, and the reasons name the files, not their text', async () => {
      const result = await check({
        env: noEnv,
        files: {[LOG]: lines(BANNER, FORGED), [`${APP}/config/puma.rb`]: lines('workers 2', '# secret_token 123')},
      })
      assert.deepEqual(result, {
        kind: 'no-evidence',
        log: LOG,
        reasons: ["the log does not start with Puma's startup marker", `no stdout_redirect in ${APP}/config/puma.rb`],
      })
    })

    it('no config file at all: the reason names both default places', async () => {
      const result = await check({env: {RAILS_ENV: 'staging'}, files: {[LOG]: lines(BANNER)}})
      assert.ok(result.kind === 'no-evidence')
      assert.equal(result.reasons[1], `no Puma config at ${APP}/config/puma/staging.rb or ${APP}/config/puma.rb`)
    })

    it("config/puma/<env>.rb wins over config/puma.rb, env in Puma's order: APP_ENV, RACK_ENV, RAILS_ENV", async () => {
      const files = {
        [LOG]: lines(BANNER),
        [`${APP}/config/puma.rb`]: lines("stdout_redirect 'log/puma.log'"),
        [`${APP}/config/puma/production.rb`]: lines('workers 4'),
        [`${APP}/config/puma/staging.rb`]: lines("stdout_redirect 'log/puma.log'"),
      }
      // Puma loads only the first default file that exists: production.rb, without the call.
      assert.equal((await check({env: {RACK_ENV: 'production', RAILS_ENV: 'staging'}, files})).kind, 'no-evidence')
      assert.deepEqual(await check({env: {APP_ENV: 'staging', RACK_ENV: 'production'}, files}), {
        kind: 'redirected',
        log: LOG,
        evidence: `config ${APP}/config/puma/staging.rb`,
      })
      // No config/puma/development.rb: config/puma.rb.
      assert.deepEqual(await check({env: noEnv, files}), {
        kind: 'redirected',
        log: LOG,
        evidence: `config ${APP}/config/puma.rb`,
      })
    })

    it('config paths from the caller replace the defaults; relative ones are read from the master folder', async () => {
      const files = {
        [LOG]: lines(BANNER),
        [`${APP}/config/puma.rb`]: lines("stdout_redirect 'log/puma.log'"),
        [`${APP}/deploy/puma.rb`]: lines('workers 2'),
        '/etc/puma/app.rb': lines("stdout_redirect '/var/log/app.log', '/var/log/app.err', true"),
      }
      assert.equal((await check({env: noEnv, files}, ['deploy/puma.rb'])).kind, 'no-evidence')
      assert.deepEqual(await check({env: noEnv, files}, ['deploy/puma.rb', '/etc/puma/app.rb']), {
        kind: 'redirected',
        log: LOG,
        evidence: 'config /etc/puma/app.rb',
      })
      const missing = await check({env: noEnv, files}, ['/etc/puma/gone.rb'])
      assert.ok(missing.kind === 'no-evidence')
      assert.equal(missing.reasons[1], 'cannot read /etc/puma/gone.rb')
    })

    it('commented-out, =begin/=end, nil-only and look-alike calls are not a redirect', () => {
      const cases: Array<[string[], boolean]> = [
        [["stdout_redirect 'log/puma.log', 'log/puma.log', true"], true],
        [["stdout_redirect('log/out.log')"], true],
        [["  stdout_redirect('log/out.log')"], false], // indented: inside a block or a condition
        [['if ENV["LOGS"]', "  stdout_redirect 'log/puma.log'", 'end'], false],
        [['stdout_redirect "log/#{ENV.fetch(\'RACK_ENV\')}.log"'], true],
        [['stdout_redirect nil, "log/err.log"'], true],
        [["stdout_redirect 'log/puma.log' if ENV['LOG_TO_FILE']"], false], // a condition ctl cannot evaluate
        [["stdout_redirect 'log/if-unless.log'"], true],
        [["# stdout_redirect 'log/puma.log'"], false],
        [["  #stdout_redirect 'log/puma.log'"], false],
        [['=begin', "stdout_redirect 'log/puma.log'", '=end'], false],
        [['=begin', '=end', "stdout_redirect 'log/puma.log'"], true],
        [['stdout_redirect'], false],
        [['stdout_redirect nil, nil'], false],
        [['stdout_redirect(nil) # off'], false],
        [["stdout_redirect_to 'x'"], false],
        [["puts 'stdout_redirect log'"], false],
        [["log_formatter { |s| s } # then stdout_redirect 'log'"], false],
      ]
      for (const [config, expected] of cases) assert.equal(containsRedirectCall(config), expected, config.join(' / '))
    })

    it('reads a config only up to its cap, and a call cut at the cap does not count', async () => {
      const padding = `# ${'x'.repeat(CONFIG_READ_BYTES)}\n`
      const path = `${APP}/config/puma.rb`
      const late = await check({
        env: noEnv,
        files: {[LOG]: lines(BANNER), [path]: padding + lines("stdout_redirect 'log'")},
      })
      assert.equal(late.kind, 'no-evidence')
      const cut = `${'#'.repeat(CONFIG_READ_BYTES - 21)}\n` // the cap falls after "stdout_redirect 'log"
      const sources = sourcesOf({
        env: noEnv,
        files: {[LOG]: lines(BANNER), [path]: `${cut}stdout_redirect 'log/puma.log'\n`},
      })
      assert.equal((await checkRedirect(PID, {}, sources)).kind, 'no-evidence')
      assert.deepEqual(
        sources.reads.filter(([read]) => read === path),
        [[path, CONFIG_READ_BYTES]],
      )
    })

    it("another user's master: folder or environment not readable, and the reason says so", async () => {
      const noCwd = await check({cwd: undefined, env: noEnv, files: {[LOG]: lines(BANNER)}})
      assert.ok(noCwd.kind === 'no-evidence' && /folder is not readable/.test(noCwd.reasons[1]))
      const noEnviron = await check({files: {[LOG]: lines(BANNER), [`${APP}/config/puma.rb`]: 'stdout_redirect "x"\n'}})
      assert.ok(noEnviron.kind === 'no-evidence' && /environment is not readable/.test(noEnviron.reasons[1]))
    })
  })

  it('fd 1 not a regular file (pipe, tty, /dev/null, unknown): not-a-file, nothing else is read', async () => {
    for (const stdout of ['pipe:[1234]', '/dev/null', 'socket:[99]']) {
      const sources = sourcesOf({stdout, env: noEnv, files: {[`${APP}/config/puma.rb`]: 'stdout_redirect "x"\n'}})
      // eslint-disable-next-line no-await-in-loop -- one case after another
      assert.deepEqual(await checkRedirect(PID, {}, sources), {kind: 'not-a-file', stdout})
      assert.deepEqual(sources.reads, [])
    }
  })

  describe('reopenLogs refuses with a usage error (exit 2) on one line, and sends nothing', () => {
    const target = {master: {pid: PID, binds: [], cmd: 'puma', workers: []}, origin: 'test'}
    const refusal = async (world: World) => {
      try {
        await reopenLogs(target, {force: false}, sourcesOf(world))
      } catch (error) {
        assert.ok(error instanceof CtlError)
        assert.equal(error.exitCode, EXIT.usage)
        assert.doesNotMatch(error.message, /\n/)
        return error
      }

      assert.fail('reopenLogs did not refuse')
    }

    it('no evidence: names the log and why, never the forged text', async () => {
      const error = await refusal({env: noEnv, files: {[LOG]: lines(BANNER, FORGED)}})
      assert.match(
        error.message,
        /^refusing to send SIGHUP: nothing shows that Puma writes \/srv\/app\/log\/puma\.log through stdout_redirect \(/,
      )
      assert.doesNotMatch(error.message, /forged/)
      assert.equal(error.suggestion, 'configure stdout_redirect in Puma, or pass --force if you know better')
    })

    it("stdout not a file: today's message", async () => {
      const error = await refusal({stdout: 'pipe:[77]', env: noEnv, files: {}})
      assert.equal(
        error.message,
        `refusing to send SIGHUP: pid ${PID}'s stdout is pipe:[77], not a log file, so Puma runs without stdout_redirect and would stop`,
      )
    })
  })
})
