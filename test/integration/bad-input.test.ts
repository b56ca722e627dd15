import {strict as assert} from 'node:assert'
import {spawn} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {isAlive, killQuietly, readOrEmpty, stoppedAfter, titleOf, waitFor} from '../helpers/processes.js'
import {type PumaCluster, startPumaCluster} from '../helpers/puma-cluster.js'
import {type CtlResult, jsonOf, runCtl} from '../helpers/run-ctl.js'

const SHADOW = 'root:$6$saltsalt$hashhashhashhashhashhashhashhash:19000:0:99999:7:::\n'
/** Any of these in ctl's output would be the secret leaking. */
const SECRET_PARTS = ['root:', '$6$', 'saltsalt', 'hashhash', '19000']

/** `ctl ARGS` as nobody, as an operator on the wrong account would run it. */
const runCtlAsNobody = async (args: string[]): Promise<CtlResult> => runCtl(args, {user: 'nobody'})

/** The refusal: `code`, one `Error:` line matching `message` (a hint may follow), nothing on stdout. */
function refused(result: CtlResult, code: number, message: RegExp): void {
  assert.equal(result.code, code, `exit ${result.code}:\n${result.stderr}`)
  const [first, ...rest] = result.stderr.trimEnd().split('\n')
  assert.match(first, message)
  assert.ok(
    rest.every((line) => line.startsWith('Hint: ')),
    `more than one line and a hint:\n${result.stderr}`,
  )
  assert.equal(result.stdout, '')
  assert.doesNotMatch(result.stderr, /TimeoutOverflowWarning|at .*\.js:\d+/)
}

function assertNoSecret(result: CtlResult): void {
  for (const part of SECRET_PARTS) {
    assert.ok(!result.stdout.includes(part), `${part} on stdout:\n${result.stdout}`)
    assert.ok(!result.stderr.includes(part), `${part} on stderr:\n${result.stderr}`)
  }
}

/**
 * The proof that nothing was sent by the refused commands before it: the next real phased restart
 * is phase 1 (a refused SIGUSR1 that got through would have made it phase 2, or been under way).
 */
async function assertNothingWasSent(cluster: PumaCluster, workersBefore: number[], as = runCtl): Promise<void> {
  assert.ok(isAlive(cluster.pid), 'the master still runs')
  assert.deepEqual(cluster.workerPids(), workersBefore, 'the same workers')
  assert.doesNotMatch(
    readOrEmpty(cluster.logPath),
    /Starting phased worker restart|Restarting\.\.\./,
    'no restart line',
  )
  const restart = await as(['phased-restart', '--pidfile', cluster.pidfile, '--json'])
  assert.equal(restart.code, 0, restart.stderr)
  assert.equal(jsonOf(restart).phase, 1, 'the first phased restart this master has seen')
}

describe('bad input', () => {
  describe('against real Puma 5.6.5: the true reason, on one line, and nothing sent', function () {
    this.timeout(120_000)
    const start = stoppedAfter('afterEach', startPumaCluster)

    it('the wrong user (a root-owned master): exit 4 first, before anything about logs; a bad --log or --timeout, a bad control URL: exit 2', async () => {
      const cluster = await start({workers: 1})
      chmodSync(cluster.dir, 0o755) // nobody may read the pidfile: what stops it is the master's owner
      const workers = cluster.workerPids()
      // Without --log, ctl once said "pass --log or --no-wait" (exit 2), and then exit 4 after that advice.
      for (const args of [[], ['--log', cluster.logPath], ['--log', '/nonexistent/puma.log'], ['--no-wait']]) {
        // eslint-disable-next-line no-await-in-loop -- one refusal after another, against the same master
        const result = await runCtlAsNobody(['phased-restart', '--pidfile', cluster.pidfile, ...args])
        refused(result, 4, new RegExp(`^Error: not permitted to signal pid ${cluster.pid}: it runs as another user$`))
        assert.match(result.stderr, /^Hint: run ctl as the user that runs Puma/m)
      }

      const reopen = await runCtlAsNobody(['reopen-logs', '--pidfile', cluster.pidfile])
      refused(reopen, 4, /^Error: not permitted to signal pid \d+: it runs as another user$/)
      const folder = mkdtempSync(join(tmpdir(), 'ctl-log-folder-'))
      try {
        for (const [args, message] of [
          [['--log', '/nonexistent/puma.log'], /^Error: --log \/nonexistent\/puma\.log does not exist$/],
          [['--log', folder], /^Error: --log \S+ is a folder, not a log file$/],
          [
            ['--timeout', '99999999999'],
            /^Error: Parsing --timeout: Expected an integer less than or equal to 2147483/,
          ],
          [
            ['--control-url', 'tcp://127.0.0.1:99999'],
            /^Error: control URL tcp:\/\/127\.0\.0\.1:99999: port 99999 is out/,
          ],
          [['--control-url', 'tcp://127.0.0.1:0'], /port 0 is out of range \(1-65535\)$/],
          [['--control-url', 'tcp://127.0.0.1:65536'], /port 65536 is out of range/],
        ] as const) {
          // eslint-disable-next-line no-await-in-loop -- one refusal after another, against the same master
          const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, ...args])
          refused(result, 2, message)
          assert.ok(result.durationMs < 20_000, 'no wait for --timeout')
        }
      } finally {
        rmSync(folder, {recursive: true, force: true})
      }

      await assertNothingWasSent(cluster, workers)
    })

    it('a log ctl cannot read (a master ctl may signal): exit 4 with a one-line hint, never a raw EACCES', async () => {
      const cluster = await start({workers: 1, runAs: 'nobody'})
      const workers = cluster.workerPids()
      const secretLog = join(tmpdir(), `ctl-root-only-${process.pid}.log`)
      writeFileSync(secretLog, '', {mode: 0o600})
      try {
        const result = await runCtlAsNobody(['phased-restart', '--pidfile', cluster.pidfile, '--log', secretLog])
        refused(result, 4, new RegExp(`^Error: cannot read --log ${secretLog}: permission denied$`))
        assert.match(result.stderr, /^Hint: run ctl as the user that runs Puma, or pass --no-wait/m)
        assert.doesNotMatch(result.stderr, /EACCES/)
      } finally {
        rmSync(secretLog, {force: true})
      }

      // Its own user restarts it, reading its own log: the proof the refused run sent nothing.
      await assertNothingWasSent(cluster, workers, runCtlAsNobody)
    })

    it('a forged worker title does not make single mode a cluster: worker-count-up is refused, Puma not suspended', async () => {
      const single = await start({workers: 0})
      // Any local user can title a process as this master's worker.
      const forger = spawn(
        'runuser',
        [
          '-u',
          'nobody',
          '--',
          'ruby',
          '-e',
          `$0 = "puma: cluster worker 0: ${single.pid}"; $stdout.puts "titled"; $stdout.flush; sleep`,
        ],
        {stdio: ['ignore', 'pipe', 'ignore']},
      )
      let forgedPid = 0
      try {
        await new Promise<void>((resolve) => {
          forger.stdout!.once('data', () => resolve())
        })
        // runuser runs ruby as its child.
        forgedPid = Number(readFileSync(`/proc/${forger.pid}/task/${forger.pid}/children`, 'utf8').trim())
        await waitFor(
          () => titleOf(forgedPid) === `puma: cluster worker 0: ${single.pid}`,
          5000,
          () => `the forged title (${titleOf(forgedPid)})`,
        )
        for (const json of [false, true]) {
          // eslint-disable-next-line no-await-in-loop -- one after the other
          const result = await runCtl(['worker-count-up', '--pidfile', single.pidfile, ...(json ? ['--json'] : [])])
          assert.equal(result.code, 2, result.stderr)
          const message = json ? jsonOf(result).error.message : result.stderr.split('\n')[0]
          assert.match(message, new RegExp(`refusing: pid ${single.pid} runs in single mode \\(no workers\\)`))
          assert.doesNotMatch(result.stdout + result.stderr, /workers 1 → 2/)
        }

        assert.doesNotMatch(readOrEmpty(`/proc/${single.pid}/stat`), /^\d+ \(.*\) T/, 'not stopped (suspended)')
      } finally {
        killQuietly(forgedPid, 'SIGKILL')
        killQuietly(forger.pid!, 'SIGKILL')
      }
    })
  })

  describe('files and flags ctl quotes nothing of: a pidfile or state file symlinked to a secret, a token in a URL', () => {
    let app: string

    beforeEach(() => {
      app = mkdtempSync(join(tmpdir(), 'ctl-bad-input-'))
      mkdirSync(join(app, 'tmp', 'pids'), {recursive: true})
      writeFileSync(join(app, 'shadow'), SHADOW, {mode: 0o600})
    })

    afterEach(() => rmSync(app, {recursive: true, force: true}))

    it('tmp/pids/puma.pid a symlink to a shadow-like file: exit 3, its size only, in text and --json', async () => {
      symlinkSync(join(app, 'shadow'), join(app, 'tmp', 'pids', 'puma.pid'))
      for (const command of ['stop', 'phased-restart', 'status']) {
        // eslint-disable-next-line no-await-in-loop -- one after the other
        const text = await runCtl([command], {cwd: app})
        refused(
          text,
          3,
          /^Error: invalid pidfile tmp\/pids\/puma\.pid: not a process id \(not a number: 69 bytes, not shown\)$/,
        )
        assertNoSecret(text)
        // eslint-disable-next-line no-await-in-loop -- one after the other
        const json = await runCtl([command, '--json'], {cwd: app})
        assert.equal(json.code, 3)
        assert.equal(jsonOf(json).error.exitCode, 3)
        assertNoSecret(json)
      }
    })

    it('a state file symlinked to a file whose pid, control_url and token are secrets: exit 3, nothing of them shown', async () => {
      writeFileSync(join(app, 'other'), `pid: ${SHADOW}control_url: ${SHADOW}control_auth_token: hashhashhash\n`)
      symlinkSync(join(app, 'other'), join(app, 'tmp', 'pids', 'puma.state'))
      for (const args of [['status'], ['status', '--json'], ['stats'], ['stop', '--json']]) {
        // eslint-disable-next-line no-await-in-loop -- one after the other
        const result = await runCtl(args, {cwd: app})
        assert.equal(result.code, 3, result.stderr)
        assert.match(
          result.stdout + result.stderr,
          /invalid state file tmp\/pids\/puma\.state: not a process id \(not a number: 68 bytes/,
        )
        assertNoSecret(result)
      }
    })

    it('a token in a malformed --control-url (query, userinfo) is never printed: exit 2, one line', async () => {
      for (const url of [
        'tcp://127.0.0.1:9293?token=hashhash',
        'tcp://puma:hashhash@127.0.0.1:9293',
        'tcp://127.0.0.1:99999?token=hashhash',
      ]) {
        for (const json of [false, true]) {
          // eslint-disable-next-line no-await-in-loop -- one after the other
          const result = await runCtl(['stats', '--control-url', url, ...(json ? ['--json'] : [])])
          assert.equal(result.code, 2, result.stderr)
          const message = json ? jsonOf(result).error.message : result.stderr.split('\n')[0]
          assert.match(message, /^(Error: )?control URL tcp:\/\/(\*\*\*@)?127\.0\.0\.1:\d+(\?\*\*\*)?: /)
          assertNoSecret(result)
        }
      }
    })

    it('a PID too large for a number is quoted as given', async () => {
      const result = await runCtl(['stop', '--pid', '99999999999999999999'])
      refused(result, 3, /^Error: invalid --pid: 99999999999999999999 is not a PID ctl will signal/)
    })
  })
})
