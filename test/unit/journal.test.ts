import {strict as assert} from 'node:assert'
import {spawn} from 'node:child_process'
import {getEventListeners, once} from 'node:events'
import {existsSync, readFileSync, readlinkSync} from 'node:fs'
import {mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'

import {CtlError} from '../../src/errors.js'
import {
  followJournal,
  journalctlArguments,
  type JournalFollower,
  type JournalOptions,
  type JournalUnit,
  journalUnitOf,
  parseCgroupUnit,
  startJournal,
} from '../../src/log/journal.js'
import {rejection} from '../helpers/assertions.js'
import {fixturesDir} from '../helpers/paths.js'
import {waitFor} from '../helpers/processes.js'

/** test/fixtures/bin/journalctl: checks its arguments, replays a fixture log, then keeps following. */
const standIn = join(fixturesDir, 'bin', 'journalctl')
const replayed = readFileSync(join(fixturesDir, 'logs', 'puma-5.6-phased.log'), 'utf8')
  .trimEnd()
  .split('\n')

const isGone = (pid: number) => !existsSync(`/proc/${pid}`) // a zombie would still be listed

/** The first `count` lines (fewer when they end), failing after `ms` rather than waiting for ever. */
async function take(lines: AsyncGenerator<string>, count: number, stop: () => unknown, ms = 5000): Promise<string[]> {
  const got: string[] = []
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    stop() // an async generator's return() would wait for the pending line
  }, ms)
  try {
    for await (const line of lines) {
      got.push(line)
      if (got.length === count) break
    }
  } finally {
    clearTimeout(timer)
  }

  if (timedOut) assert.fail(`timed out waiting for ${count} lines; got ${JSON.stringify(got)}`)
  return got
}

describe('log/journal', () => {
  describe('journalctlArguments', () => {
    const since = new Date(1_764_000_000_123)

    it('follows a system unit by name, from a millisecond timestamp on', () => {
      assert.deepEqual(journalctlArguments('puma.service', since), [
        '-f',
        '-o',
        'cat',
        '--no-pager',
        '--since',
        '@1764000000.123',
        '-u',
        'puma.service',
      ])
      assert.deepEqual(journalctlArguments({name: 'puma.service'}, since).slice(-2), ['-u', 'puma.service'])
    })

    it("matches a user unit by its fields and its manager's UID", () => {
      assert.deepEqual(journalctlArguments({name: 'puma.service', uid: 1000}, since).slice(-2), [
        '_SYSTEMD_USER_UNIT=puma.service',
        '_UID=1000',
      ])
    })
  })

  describe('parseCgroupUnit', () => {
    const cases: Array<[string, string, JournalUnit | undefined]> = [
      ['cgroup v2, a system service', '0::/system.slice/puma.service\n', {name: 'puma.service'}],
      [
        'cgroup v2, a template instance in its own slice',
        '0::/system.slice/system-puma.slice/puma@app.service\n',
        {name: 'puma@app.service'},
      ],
      [
        'cgroup v2, a sub-cgroup of a delegated service',
        '0::/system.slice/puma.service/workers\n',
        {name: 'puma.service'},
      ],
      [
        'cgroup v2, a user unit',
        '0::/user.slice/user-1000.slice/user@1000.service/app.slice/puma.service\n',
        {name: 'puma.service', uid: 1000},
      ],
      [
        'cgroup v1, read from name=systemd',
        '12:memory:/system.slice/puma.service\n11:cpu,cpuacct:/system.slice/puma.service\n1:name=systemd:/system.slice/puma.service\n',
        {name: 'puma.service'},
      ],
      [
        'cgroup v1, a user unit',
        '1:name=systemd:/user.slice/user-1001.slice/user@1001.service/puma.service\n',
        {name: 'puma.service', uid: 1001},
      ],
      [
        'hybrid: both hierarchies',
        '1:name=systemd:/system.slice/puma.service\n0::/system.slice/puma.service\n',
        {name: 'puma.service'},
      ],
      ['an escaped cgroup name', '0::/system.slice/_cgroup.service\n', {name: 'cgroup.service'}],
      ['a login session (a scope, not a service)', '0::/user.slice/user-1000.slice/session-3.scope\n', undefined],
      ['the root (a container without systemd)', '0::/\n', undefined],
      ['cgroup v1 without systemd', '4:memory:/process_api/fb56e992\n3:cpuset:/\n0::/\n', undefined],
      ['a docker container', '0::/system.slice/docker-0123abcd.scope\n', undefined],
      ['nothing', '', undefined],
    ]
    for (const [name, text, expected] of cases) {
      it(name, () => assert.deepEqual(parseCgroupUnit(text), expected))
    }
  })

  describe('journalUnitOf', () => {
    let proc: string

    before(async () => {
      proc = await mkdtemp(join(tmpdir(), 'ctl-journal-proc-'))
      // A fake /proc: readlink reads a symlink's target whether or not it exists.
      const fake = async (pid: number, stdout: string, cgroup: string) => {
        await mkdir(join(proc, String(pid), 'fd'), {recursive: true})
        await symlink(stdout, join(proc, String(pid), 'fd', '1'))
        await writeFile(join(proc, String(pid), 'cgroup'), cgroup)
      }

      await fake(100, 'socket:[4242]', '0::/system.slice/puma.service\n')
      await fake(101, 'socket:[4243]', '0::/user.slice/user-1000.slice/user@1000.service/app.slice/puma.service\n')
      await fake(102, '/srv/app/log/puma.log', '0::/system.slice/puma.service\n') // stdout_redirect under systemd
      await fake(103, 'socket:[4244]', '0::/user.slice/user-1000.slice/session-2.scope\n') // started from a shell
    })

    after(() => rm(proc, {recursive: true, force: true}))

    it('names the service whose journal gets a socket stdout', async () => {
      assert.deepEqual(await journalUnitOf(100, proc), {name: 'puma.service'})
      assert.deepEqual(await journalUnitOf(101, proc), {name: 'puma.service', uid: 1000})
    })

    it('is undefined for a stdout that is a file, outside a service, or for no such process', async () => {
      assert.equal(await journalUnitOf(102, proc), undefined)
      assert.equal(await journalUnitOf(103, proc), undefined)
      assert.equal(await journalUnitOf(999, proc), undefined)
    })

    it('is undefined for this process, whose stdout is not the journal', async function () {
      const stdout = readlinkSync('/proc/self/fd/1')
      // Run under a systemd service that logs to the journal (some CI runners), it would be one.
      if (stdout.startsWith('socket:[') && parseCgroupUnit(readFileSync('/proc/self/cgroup', 'utf8'))) this.skip()
      assert.equal(await journalUnitOf(process.pid), undefined)
    })

    it('is undefined for a child whose stdout is a socket but which runs in no service', async function () {
      if (parseCgroupUnit(readFileSync('/proc/self/cgroup', 'utf8'))) this.skip() // we run in a service: so would it
      const child = spawn('sleep', ['30'], {stdio: ['ignore', 'pipe', 'ignore']}) // libuv's stdio pipes are socketpairs
      try {
        assert.match(readlinkSync(`/proc/${child.pid}/fd/1`), /^socket:\[/)
        assert.equal(await journalUnitOf(child.pid!), undefined)
      } finally {
        child.kill()
      }
    })
  })

  describe('following with a stand-in journalctl', () => {
    let dir: string
    const started: Array<{controller: AbortController; follower: JournalFollower}> = []
    const pidFile = () => join(dir, 'pid')
    const standInPid = () => Number(readFileSync(pidFile(), 'utf8'))

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ctl-journal-'))
      process.env.JOURNALCTL_STANDIN_DIR = dir
    })

    afterEach(async () => {
      for (const key of Object.keys(process.env)) if (key.startsWith('JOURNALCTL_STANDIN_')) delete process.env[key]
      // A failed test must not leave a stand-in running: mocha would wait for it.
      await Promise.all(started.splice(0).map(({follower}) => follower.stop()))
      await rm(dir, {recursive: true, force: true})
    })

    function start(unit: JournalUnit | string = 'puma.service', options: Partial<JournalOptions> = {}) {
      const controller = new AbortController()
      const follower = startJournal(unit, {signal: controller.signal, journalctl: standIn, ...options})
      started.push({follower, controller})
      return {follower, controller}
    }

    it('yields the lines in order, from journalctl run with the expected arguments', async () => {
      const since = new Date()
      const {follower} = start('puma.service', {since})
      await follower.ready
      assert.deepEqual(await take(follower.lines, replayed.length, follower.stop), replayed)
      assert.deepEqual(
        JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8')),
        journalctlArguments('puma.service', since),
      )
    })

    it('follows a user unit by its fields', async () => {
      const {follower} = start({name: 'puma.service', uid: 1000})
      assert.deepEqual(await take(follower.lines, 2, follower.stop), replayed.slice(0, 2))
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8')).slice(-2), [
        '_SYSTEMD_USER_UNIT=puma.service',
        '_UID=1000',
      ])
    })

    it('keeps the lines journalctl prints before anyone iterates', async () => {
      const {follower} = start()
      await follower.ready
      await waitFor(
        () => existsSync(join(dir, 'printed')),
        5000,
        () => 'the stand-in to print its last line',
      )
      assert.deepEqual(await take(follower.lines, replayed.length, follower.stop), replayed)
    })

    it('finds journalctl on the PATH by default', async () => {
      const path = process.env.PATH
      process.env.PATH = `${join(fixturesDir, 'bin')}:${path}`
      try {
        const controller = new AbortController()
        const lines = followJournal('puma.service', {signal: controller.signal})
        assert.deepEqual(await take(lines, 1, () => controller.abort()), replayed.slice(0, 1))
      } finally {
        process.env.PATH = path
      }

      assert.ok(isGone(standInPid()))
    })

    it('is ready only once journalctl follows (holds its inotify descriptor)', async () => {
      process.env.JOURNALCTL_STANDIN_OPEN_MS = '400' // a large journal, slow to open
      const before = performance.now()
      const {follower} = start()
      await follower.ready
      assert.ok(performance.now() - before >= 400, `ready after ${performance.now() - before} ms`)
      assert.deepEqual(await take(follower.lines, 1, follower.stop), replayed.slice(0, 1))
    })

    it('is ready after readyTimeoutMs when following cannot be seen', async () => {
      process.env.JOURNALCTL_STANDIN_NO_WATCH = '1'
      const before = performance.now()
      const {follower} = start('puma.service', {readyTimeoutMs: 200})
      await follower.ready
      const waited = performance.now() - before
      assert.ok(waited >= 200 && waited < 2000, `ready after ${waited} ms`)
    })

    it('aborting the signal ends the iteration and kills journalctl', async () => {
      const {follower, controller} = start()
      const got: string[] = []
      const done = (async () => {
        for await (const line of follower.lines) got.push(line)
      })()
      // then it waits for more, like -f
      await waitFor(
        () => got.length >= replayed.length,
        5000,
        () => `${replayed.length} lines; got ${got.length}`,
      )
      controller.abort()
      await done
      assert.deepEqual(got, replayed)
      assert.ok(isGone(standInPid()), 'journalctl still runs (or is a zombie)')
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0)
    })

    it('breaking out of the loop kills journalctl', async () => {
      const {follower} = start()
      for await (const line of follower.lines) if (line.includes('phase: 1')) break
      assert.ok(isGone(standInPid()), 'journalctl still runs (or is a zombie)')
    })

    it('stop() kills journalctl; the lines then end', async () => {
      const {follower, controller} = start()
      await follower.ready
      await follower.stop()
      assert.ok(isGone(standInPid()))
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0)
      assert.deepEqual(await take(follower.lines, 100, follower.stop), [])
    })

    it('spawns nothing when the signal has already aborted', async () => {
      const controller = new AbortController()
      controller.abort()
      const follower = startJournal('puma.service', {signal: controller.signal, journalctl: standIn})
      assert.equal((await rejection(follower.ready)).exitCode, 130)
      assert.deepEqual(await take(follower.lines, 1, follower.stop), [])
      await delay(100)
      assert.ok(!existsSync(pidFile()))
    })

    it("an unknown unit: journalctl's exit and its message, exit code 2", async () => {
      const {follower} = start('unknown.service')
      const error = await rejection(follower.ready)
      assert.equal(error.exitCode, 2)
      assert.match(error.message, /journalctl exited with code 1 .*unknown\.service: No journal files were found\./)
      assert.ok(isGone(standInPid()))
      // Iterating without awaiting ready throws the same.
      const controller = new AbortController()
      const lines = followJournal('unknown.service', {signal: controller.signal, journalctl: standIn})
      await assert.rejects(
        take(lines, 1, () => controller.abort()),
        (thrown: CtlError) => thrown.exitCode === 2 && /No journal files were found/.test(thrown.message),
      )
    })

    it('no permission to read the journal: exit code 4, with the hint kept as a detail', async () => {
      const {follower} = start('forbidden.service')
      const error = await rejection(follower.ready)
      assert.equal(error.exitCode, 4)
      assert.match(error.message, /: No journal files were opened due to insufficient permissions\.$/)
      assert.match(error.details.join('\n'), /not seeing messages from other users/)
      assert.match(error.suggestion ?? '', /systemd-journal/)
      assert.match(follower.stderr(), /insufficient permissions/)
    })

    it('no journalctl installed: exit code 2', async () => {
      const {follower} = start('puma.service', {journalctl: join(dir, 'no-such-journalctl')})
      const error = await rejection(follower.ready)
      assert.equal(error.exitCode, 2)
      assert.match(error.message, /no-such-journalctl was not found/)
    })

    it('journalctl exiting while it follows ends the lines with its error', async () => {
      const {follower} = start('dies.service')
      const got: string[] = []
      const error = await rejection(
        (async () => {
          for await (const line of follower.lines) got.push(line)
        })(),
      )
      assert.deepEqual(got, replayed)
      assert.equal(error.exitCode, 2)
      assert.match(error.message, /Bad message/)
      assert.ok(isGone(standInPid()))
    })

    it('wrong arguments would be refused by the stand-in', async () => {
      const child = spawn(standIn, ['-f', '-n', '0', '-u', 'puma.service'], {stdio: ['ignore', 'ignore', 'pipe']})
      let stderr = ''
      child.stderr.on('data', (data) => {
        stderr += data
      })
      const [code] = await once(child, 'close')
      assert.equal(code, 2)
      assert.match(stderr, /unexpected arguments/)
    })
  })
})
