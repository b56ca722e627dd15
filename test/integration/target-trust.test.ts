import {strict as assert} from 'node:assert'
import {execFile, execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {binRun} from '../helpers/paths.js'
import {freePort, isAlive, readOrEmpty} from '../helpers/processes.js'
import {OK_APP, type PumaCluster, startPumaCluster} from '../helpers/puma-cluster.js'
import {DEBIAN_PUMA, realPuma} from '../helpers/real-puma.js'
import {type CtlResult, jsonOf, runCtl} from '../helpers/run-ctl.js'

/**
 * Issue 12, who may name a master: as root, two local users' apps on real Puma 5.6.5. A pidfile or
 * state file names a master only when it is consistent with it; a scan from elsewhere is for
 * looking. Each refusal: exit 3, its one line, and the other app untouched (same master and
 * workers, no restart or stop line in its log). Each real layout: still found, and acted on.
 */

const USERS = ['ctltest_a', 'ctltest_b'] as const

/** Whether a local user exists; created (system user, no home) when it does not, if useradd is there. */
function ensureUser(name: string): boolean {
  try {
    execFileSync('id', ['-u', name], {stdio: 'ignore'})
    return true
  } catch {}

  try {
    execFileSync('useradd', ['-M', '-r', '-s', '/usr/sbin/nologin', name], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/** ctl's error line, as printed (the first stderr line). */
const errorLine = (result: CtlResult) => result.stderr.split('\n')[0]

/** Lines a Puma logs when it is signalled to stop, restart or add a worker. */
const ACTED_ON = /Gracefully stopping|phased|Restarting|Changing to|booted in/i

/** A snapshot of a cluster; `assertUntouched` then proves nothing reached it since. */
function watch(cluster: PumaCluster): {assertUntouched(): void} {
  const workers = cluster.workerPids()
  const logLength = readOrEmpty(cluster.logPath).length
  return {
    assertUntouched() {
      assert.ok(isAlive(cluster.pid), `master ${cluster.pid} still runs`)
      assert.deepEqual(cluster.workerPids(), workers, 'the same workers')
      assert.doesNotMatch(readOrEmpty(cluster.logPath).slice(logLength), ACTED_ON)
    },
  }
}

/** A Capistrano deploy in the cluster's folder: releases r1, r2 (each with the app), shared/tmp/pids, each release's tmp/pids -> it, current -> r1. */
function capistrano(dir: string): void {
  mkdirSync(join(dir, 'shared', 'tmp', 'pids'), {recursive: true})
  for (const release of ['r1', 'r2']) {
    mkdirSync(join(dir, 'releases', release, 'tmp'), {recursive: true})
    writeFileSync(join(dir, 'releases', release, 'config.ru'), OK_APP)
    symlinkSync(join(dir, 'shared', 'tmp', 'pids'), join(dir, 'releases', release, 'tmp', 'pids'))
  }

  symlinkSync(join(dir, 'releases', 'r1'), join(dir, 'current'))
}

/** Points `current` at r2 atomically, as a deploy does. */
function publish(dir: string): void {
  symlinkSync(join(dir, 'releases', 'r2'), join(dir, 'current.new'))
  renameSync(join(dir, 'current.new'), join(dir, 'current'))
}

describe('target trust against real Puma (issue 12)', () => {
  describe('who may name a master: two users, two apps', function () {
    this.timeout(120_000)
    /** App A: user ctltest_a, a plain layout with tmp/pids/puma.pid. */
    let appA: PumaCluster
    /** App B: user ctltest_b, tagged, its pidfile outside the app as a systemd unit's /run/puma/b.pid. */
    let appB: PumaCluster
    let runDir: string
    let elsewhere: string
    const tag = `ctltest-app2-${process.pid}`
    const started: PumaCluster[] = []

    before(async function () {
      if (process.getuid?.() !== 0) this.skip() // two users' Pumas need root
      if (!USERS.every((user) => ensureUser(user))) {
        console.log('      (skipped: cannot create the local users ctltest_a and ctltest_b: no useradd)')
        this.skip()
      }

      elsewhere = mkdtempSync(join(tmpdir(), 'ctl-elsewhere-'))
      runDir = mkdtempSync(join(tmpdir(), 'ctl-run-'))
      chmodSync(runDir, 0o755) // as /run: anyone may pass through
      mkdirSync(join(runDir, 'run'))
      execFileSync('chown', ['ctltest_b:', join(runDir, 'run')])
      const [a, b] = await Promise.all([
        startPumaCluster({
          runAs: 'ctltest_a',
          workers: 1,
          pidfile: 'tmp/pids/puma.pid',
          prepare: (dir) => mkdirSync(join(dir, 'tmp', 'pids'), {recursive: true}),
        }),
        startPumaCluster({
          runAs: 'ctltest_b',
          workers: 1,
          tag,
          extraConfig: `pidfile '${join(runDir, 'run', 'b.pid')}'`,
        }),
      ])
      appA = a
      appB = b
      started.push(a, b)
    })

    after(async () => {
      await Promise.all(started.map((cluster) => cluster.stop()))
      for (const folder of [elsewhere, runDir]) if (folder) rmSync(folder, {recursive: true, force: true})
    })

    it("A's own pidfile holding B's master PID (another user's app): exit 3, owner against the master's user", async () => {
      const b = watch(appB)
      writeFileSync(appA.pidfile, `${appB.pid}\n`) // as ctltest_a could: the file stays theirs
      try {
        for (const command of ['stop', 'phased-restart']) {
          const result = await runCtl([command], {cwd: appA.dir}) // eslint-disable-line no-await-in-loop
          assert.equal(result.code, 3, result.stderr)
          assert.match(
            errorLine(result),
            new RegExp(
              String.raw`^Error: pidfile tmp/pids/puma\.pid is owned by ctltest_a \(uid \d+\), but pid ${appB.pid} runs as ctltest_b \(uid \d+\): only the master's user or root may name it$`,
            ),
          )
          assert.match(result.stderr, new RegExp(`Hint: if you mean that master, pass --pid ${appB.pid}`))
        }
      } finally {
        writeFileSync(appA.pidfile, `${appA.pid}\n`)
      }

      b.assertUntouched()
    })

    it("a fresh root-owned pidfile in A's tmp naming B's master (a reused PID, touched): exit 3, B runs from another app", async () => {
      const b = watch(appB)
      const reused = join(appA.dir, 'tmp', 'pids', 'server.pid')
      writeFileSync(reused, `${appB.pid}\n`)
      utimesSync(reused, new Date(), new Date())
      const result = await runCtl(['stop', '--pidfile', 'tmp/pids/server.pid'], {cwd: appA.dir})
      rmSync(reused)
      assert.equal(result.code, 3, result.stderr)
      assert.equal(
        errorLine(result),
        `Error: pidfile tmp/pids/server.pid belongs to the app in ${appA.dir}, but pid ${appB.pid} runs from ${appB.dir}`,
      )
      b.assertUntouched()
    })

    it("--tag of another user's app from an unrelated folder: exit 3 for acting; status shows it", async () => {
      const b = watch(appB)
      const result = await runCtl(['stop', '--tag', tag], {cwd: elsewhere})
      assert.equal(result.code, 3, result.stderr)
      assert.equal(
        errorLine(result),
        `Error: refusing to act on pid ${appB.pid}, tagged ${tag}: it runs from ${appB.dir}, not from ${elsewhere}, as ${userLabel('ctltest_b')}, and any user can give a Puma that tag`,
      )
      assert.match(result.stderr, new RegExp(`Hint: add --dir ${appB.dir} to confirm it, or pass --pid ${appB.pid}`))
      const status = await runCtl(['status', '--tag', tag, '--json'], {cwd: elsewhere})
      assert.equal(status.code, 0, status.stderr)
      assert.equal(jsonOf(status).pid, appB.pid)
      b.assertUntouched()
    })

    it("a pidfile in no app's folder (a systemd unit's, --pidfile): refused from elsewhere, a phased restart from the app's folder", async () => {
      const pidfile = join(runDir, 'run', 'b.pid')
      assert.equal(readOrEmpty(pidfile).trim(), String(appB.pid), 'Puma wrote it as ctltest_b')
      const b = watch(appB)
      const refused = await runCtl(['phased-restart', '--pidfile', pidfile], {cwd: elsewhere})
      assert.equal(refused.code, 3, refused.stderr)
      assert.equal(
        errorLine(refused),
        `Error: pidfile ${pidfile} is in no app's folder, and pid ${appB.pid} runs from ${appB.dir}, not from ${elsewhere}`,
      )
      b.assertUntouched()
      await phasedRestart(appB, ['--pidfile', pidfile], appB.dir)
    })

    it('a plain app: tmp/pids/puma.pid found from its folder, a phased restart', async () => {
      await phasedRestart(appA, [], appA.dir)
    })

    it('a stale state file beside the live pidfile: the pidfile is used, with a warning', async () => {
      const dead = await deadPid()
      const state = join(appA.dir, 'tmp', 'pids', 'puma.state')
      writeFileSync(state, `---\npid: ${dead}\n`)
      const warning = `tmp/pids/puma.state names pid ${dead}, which is not running: used tmp/pids/puma.pid`
      try {
        const status = await runCtl(['status'], {cwd: appA.dir})
        assert.equal(status.code, 0, status.stderr)
        assert.match(status.stdout, new RegExp(`pid ${appA.pid}`))
        assert.ok(status.stdout.includes(`  warning   ${warning}`), status.stdout)
        const restart = await phasedRestart(appA, [], appA.dir)
        assert.ok(jsonOf(restart).warnings.includes(warning), restart.stdout)
      } finally {
        rmSync(state)
      }
    })

    it('Capistrano: --dir current after the deploy re-pointed it finds the master of the old release; a phased restart from current', async () => {
      const cluster = await startPumaCluster({
        workers: 1,
        prepare: capistrano,
        runIn: 'current',
        pidfile: 'shared/tmp/pids/puma.pid',
      })
      started.push(cluster)
      publish(cluster.dir)
      const current = join(cluster.dir, 'current')
      const status = await runCtl(['status', '--dir', current, '--json'], {cwd: elsewhere})
      assert.equal(status.code, 0, status.stderr)
      assert.equal(jsonOf(status).pid, cluster.pid)
      assert.equal(jsonOf(status).folder, join(cluster.dir, 'releases', 'r1'))
      // from current (now r2), tmp/pids/puma.pid is shared's, which the master of r1 wrote
      await phasedRestart(cluster, [], current)
    })
  })

  describe('a scan is for looking: the only Puma, from an unrelated folder, in a private PID namespace', function () {
    this.timeout(60_000)
    let root: string

    before(function () {
      if (process.getuid?.() !== 0) this.skip() // unshare --pid needs root
      root = mkdtempSync(join(tmpdir(), 'ctl-scan-'))
    })

    after(() => {
      if (root) rmSync(root, {recursive: true, force: true})
    })

    it('`cd elsewhere && ctl stop`: exit 3, one line; `ctl status` shows it; the master lives on', async () => {
      const app = join(root, 'app')
      const out = join(root, 'out')
      for (const folder of [join(app, 'tmp', 'pids'), join(app, 'log'), out]) mkdirSync(folder, {recursive: true})
      const log = join(app, 'log', 'puma.log')
      writeFileSync(join(app, 'config.ru'), OK_APP)
      writeFileSync(
        join(app, 'puma.rb'),
        [
          'workers 1',
          `bind 'tcp://127.0.0.1:${await freePort()}'`,
          `stdout_redirect '${log}', '${log}', true`,
          `pidfile '${join(app, 'tmp', 'pids', 'puma.pid')}'`,
        ].join('\n'),
      )
      // Puma boots, then ctl runs from `out`; when the namespace's first process ends, the kernel kills the rest.
      const script = `
      cd "$APP" && "$PUMA" -C puma.rb >/dev/null 2>&1 &
      tries=0
      until grep -q 'booted in' "$APP/log/puma.log" 2>/dev/null; do
        tries=$((tries + 1)); [ "$tries" -gt 300 ] && exit 90; sleep 0.1
      done
      cd "$OUT"
      "$NODE" "$CTL" stop >stop.out 2>stop.err; echo $? >stop.code
      "$NODE" "$CTL" status --json >status.out 2>status.err; echo $? >status.code
      kill -0 "$(cat "$APP/tmp/pids/puma.pid")" && echo alive >alive
    `
      await promisify(execFile)('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', script], {
        env: {
          ...process.env,
          PUMA: await realPuma(DEBIAN_PUMA),
          APP: app,
          OUT: out,
          NODE: process.execPath,
          CTL: binRun,
          NO_COLOR: '1',
        },
      })
      const read = (name: string) => readOrEmpty(join(out, name))
      const stopped =
        /^Error: refusing to act on pid (\d+), found only by a process scan: it runs from (.*), not from (.*)$/m.exec(
          read('stop.err'),
        )
      assert.equal(read('stop.code').trim(), '3', read('stop.err'))
      assert.ok(stopped, read('stop.err'))
      assert.deepEqual(stopped.slice(2), [app, out])
      assert.equal(read('stop.err').split('\n')[0], stopped[0])
      assert.equal(read('status.code').trim(), '0', read('status.err'))
      assert.equal(JSON.parse(read('status.out')).pid, Number(stopped[1]))
      assert.equal(read('alive').trim(), 'alive', 'the master ran on after ctl stop')
      assert.doesNotMatch(readOrEmpty(log), /Gracefully stopping/)
      assert.equal(read('stop.out'), '', 'nothing on stdout')
    })
  })

  describe("a stale pidfile whose PID another app's master now has, freshly touched (real PID reuse in a private PID namespace)", function () {
    this.timeout(60_000)
    let root: string

    before(function () {
      if (process.getuid?.() !== 0) this.skip() // unshare --pid and ns_last_pid need root
      root = mkdtempSync(join(tmpdir(), 'ctl-reuse-'))
    })

    after(() => {
      if (root) rmSync(root, {recursive: true, force: true})
    })

    it("app A's pidfile names app B's master: `ctl stop` in A refuses (exit 3), B serves on", async () => {
      const apps = {a: join(root, 'a'), b: join(root, 'b')}
      for (const app of Object.values(apps)) {
        for (const folder of [join(app, 'tmp', 'pids'), join(app, 'log')]) mkdirSync(folder, {recursive: true})
        writeFileSync(join(app, 'config.ru'), OK_APP)
        const log = join(app, 'log', 'puma.log')
        writeFileSync(
          join(app, 'puma.rb'),
          [
            'workers 1',
            // eslint-disable-next-line no-await-in-loop -- two apps, one port each
            `bind 'tcp://127.0.0.1:${await freePort()}'`,
            `stdout_redirect '${log}', '${log}', true`,
            `pidfile '${join(app, 'tmp', 'pids', 'puma.pid')}'`,
          ].join('\n'),
        )
      }

      // A boots and is killed (its pidfile stays); the kernel's next PID is set to A's old one, so B's
      // master gets it; A's pidfile is touched; then ctl runs in A's folder.
      const script = `
      booted() { tries=0; until grep -q 'booted in' "$1/log/puma.log" 2>/dev/null; do
        tries=$((tries + 1)); [ "$tries" -gt 300 ] && exit 90; sleep 0.1; done; }
      (cd "$A" && exec "$PUMA" -C puma.rb >/dev/null 2>&1) &
      booted "$A"
      old=$(cat "$A/tmp/pids/puma.pid")
      kill -9 "$old"; while kill -0 "$old" 2>/dev/null; do sleep 0.05; done
      pkill -9 -f "cluster worker" || true; sleep 0.2
      echo $((old - 1)) > /proc/sys/kernel/ns_last_pid
      (cd "$B" && exec "$PUMA" -C puma.rb >/dev/null 2>&1) &
      booted "$B"
      [ "$(cat "$B/tmp/pids/puma.pid")" = "$old" ] || exit 91
      touch "$A/tmp/pids/puma.pid"
      cd "$A"
      "$NODE" "$CTL" stop >"$OUT/stop.out" 2>"$OUT/stop.err"; echo $? >"$OUT/stop.code"
      kill -0 "$old" && echo alive >"$OUT/alive"
      echo "$old" >"$OUT/pid"
    `
      await promisify(execFile)('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', script], {
        env: {
          ...process.env,
          PUMA: await realPuma(DEBIAN_PUMA),
          A: apps.a,
          B: apps.b,
          OUT: root,
          NODE: process.execPath,
          CTL: binRun,
          NO_COLOR: '1',
        },
      })
      const read = (name: string) => readOrEmpty(join(root, name))
      assert.equal(read('stop.code').trim(), '3', read('stop.err'))
      assert.match(read('stop.err').split('\n')[0], new RegExp(`pid ${read('pid').trim()}.*${apps.b}`))
      assert.equal(read('alive').trim(), 'alive', "B's master ran on")
      assert.doesNotMatch(readOrEmpty(join(apps.b, 'log', 'puma.log')), /Gracefully stopping|Goodbye/)
    })
  })
})

/** `ctl phased-restart ARGS --json` run from `cwd`: exit 0, done, and this master's log shows the restart. */
async function phasedRestart(cluster: PumaCluster, args: string[], cwd: string): Promise<CtlResult> {
  const logLength = readOrEmpty(cluster.logPath).length
  const result = await runCtl(['phased-restart', ...args, '--json'], {cwd})
  assert.equal(result.code, 0, result.stderr)
  assert.equal(jsonOf(result).outcome, 'done', result.stdout)
  assert.match(
    readOrEmpty(cluster.logPath).slice(logLength),
    new RegExp(String.raw`^\[${cluster.pid}\] - Starting phased worker restart`, 'm'),
  )
  return result
}

/** "ctltest_b (uid 999)", as ctl names a user. */
function userLabel(name: string): string {
  return `${name} (uid ${execFileSync('id', ['-u', name], {encoding: 'utf8'}).trim()})`
}

/** A PID no process has: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = execFile('true')
  await new Promise((resolve) => {
    child.on('close', resolve)
  })
  return child.pid!
}
