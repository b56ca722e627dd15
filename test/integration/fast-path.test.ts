import {strict as assert} from 'node:assert'
import {spawn} from 'node:child_process'
import {once} from 'node:events'
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- cpSync works in Node 20, only marked experimental
import {cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {startFakePuma} from '../helpers/fake-puma.js'
import {binRun, projectRoot} from '../helpers/paths.js'
import {stoppedAfter, waitFor} from '../helpers/processes.js'
import {type PumaCluster, startPumaCluster} from '../helpers/puma-cluster.js'
import {type CtlResult, jsonOf, runCtl, startCtl} from '../helpers/run-ctl.js'

const VIA_OCLIF = {PUMA_CTL_FAST_PATH: '0'}

/** Uptimes, CPU times and memory change between two runs; the rest must not. */
const steady = (text: string) =>
  text.replaceAll(/\d+(\.\d+)? (s|ms|MiB|KiB)\b|\d+m \d+s|(?<="(uptimeSeconds|rssBytes|cpuSeconds)": )[\d.]+/g, 'N')

/** The same command on the fast path, then through oclif. */
const both = async (args: string[]): Promise<[CtlResult, CtlResult]> => [
  await runCtl(args),
  await runCtl(args, {env: VIA_OCLIF}),
]

/** bin/run.js runs commands without oclif, and gives what oclif gives. */
describe('the fast path (bin/run.js without oclif)', function () {
  this.timeout(60_000)
  const start = stoppedAfter('after', startPumaCluster)
  let cluster: PumaCluster

  before(async () => {
    cluster = await start({workers: 2, tag: 'ctl-fast'})
  })

  describe('in a copy of the package whose oclif bundle throws when loaded', () => {
    let copy: string
    let bin: string

    before(() => {
      copy = mkdtempSync(join(tmpdir(), 'ctl-no-oclif-'))
      for (const entry of ['bin', 'dist', 'package.json', 'oclif.manifest.json'])
        cpSync(join(projectRoot, entry), join(copy, entry), {recursive: true})
      symlinkSync(join(projectRoot, 'node_modules'), join(copy, 'node_modules'))
      writeFileSync(join(copy, 'dist', 'ctl.js'), "throw new Error('oclif was loaded')\n")
      bin = join(copy, 'bin', 'run.js')
    })

    after(() => rmSync(copy, {recursive: true, force: true}))

    it('status, its --json and its refusals run without loading oclif', async () => {
      const status = await runCtl(['status', '--pidfile', cluster.pidfile], {bin})
      assert.equal(status.code, 0, status.stderr)
      assert.match(status.stdout, new RegExp(`Puma 5\\.6\\.5 cluster mode, pid ${cluster.pid}`))
      const json = await runCtl(['status', '-P', cluster.pidfile, '--json'], {bin})
      assert.equal(jsonOf(json).pid, cluster.pid)
      const refused = await runCtl(['stop', '--pid', '1'], {bin})
      assert.equal(refused.code, 3)
      assert.match(refused.stderr, /^Error: invalid --pid: 1 is not a PID ctl will signal/)
    })

    it('a phased restart and its wait run without loading oclif', async () => {
      const result = await runCtl(['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '30', '--json'], {bin})
      assert.equal(result.code, 0, result.stderr)
      assert.equal(jsonOf(result).outcome, 'done')
    })

    for (const args of [
      ['status', '--help'],
      ['status', '--pid'],
      ['status', '--nope'],
      ['stop', '--timeout', '0'],
      ['help'],
      [],
      ['autocomplete'],
    ]) {
      it(`leaves \`ctl ${args.join(' ')}\` to oclif (which this copy cannot load)`, async () => {
        const result = await runCtl(args, {bin})
        assert.notEqual(result.code, 0, args.join(' '))
        assert.match(result.stderr, /oclif was loaded/, args.join(' '))
      })
    }
  })

  it('a reader that goes away (ctl status | head) is no error', async () => {
    const child = spawn(process.execPath, [binRun, 'status', '--pidfile', cluster.pidfile, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.destroy()
    let stderr = ''
    child.stderr!.on('data', (chunk) => {
      stderr += chunk
    })
    const [code] = await once(child, 'close')
    assert.equal(code, 0, stderr)
    assert.equal(stderr, '')
  })

  for (const args of [
    ['status', '--pid'],
    ['status', '--nope'],
    ['stop', '--timeout', '0'],
    ['stop', '--pid', '1', '--pid', '2'],
    ['stop', '--pid', '1', '--pidfile', 'x'],
    ['restart', '--via', 'carrier-pigeon'],
    ['stats', '--control-token', 'x', '--state', 'f'],
  ]) {
    it(`what it leaves to oclif and oclif cannot parse (\`ctl ${args.join(' ')}\`): exit 2, one line and a hint`, async () => {
      const result = await runCtl(args)
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, new RegExp(`^Error: .+\\nHint: see ctl ${args[0]} --help\\n$`), args.join(' '))
      const json = await runCtl([...args, '--json'])
      assert.equal(json.code, 2, args.join(' '))
      assert.equal(jsonOf(json).error.exitCode, 2)
    })
  }

  it('a word after the command is oclif\'s "not found": exit 2, one line', async () => {
    // A word after the command reads as a subcommand (topics are space-separated): oclif's "not found".
    const extra = await runCtl(['status', 'extra'])
    assert.equal(extra.code, 2)
    assert.equal(extra.stderr.trim().split('\n').length, 1, extra.stderr)
  })

  describe('a restart and a Ctrl-C through oclif (PUMA_CTL_FAST_PATH=0)', () => {
    const startFake = stoppedAfter('afterEach', startFakePuma)

    it('a phased restart: exit 0, the plain progress lines on stderr and the summary on stdout', async () => {
      const fake = await startFake({workers: 2})
      const result = await runCtl(['phased-restart', '--pidfile', fake.pidfile, '--timeout', '30'], {env: VIA_OCLIF})
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, new RegExp(`^Sent SIGUSR1 to Puma master ${fake.pid}; following ${fake.logPath}`))
      assert.match(result.stderr, /worker 1 booted in phase 1/)
      assert.match(result.stdout, /^Phased restart finished in .*: phase 1, 2\/2 workers booted/)
    })

    it('Ctrl-C while waiting: exit 130, where the restart stood, and nothing more sent', async () => {
      const fake = await startFake({workers: 2})
      fake.setBehaviour('boot-hang')
      const run = startCtl(['phased-restart', '--pidfile', fake.pidfile, '--timeout', '30'], {env: VIA_OCLIF})
      await waitFor(() => /started the phased restart: phase 1/.test(run.stderrSoFar()), 10_000, run.stderrSoFar)
      run.child.kill('SIGINT')
      const result = await run.result
      assert.equal(result.code, 130, result.stderr)
      assert.match(
        result.stderr,
        /interrupted while waiting: phase 1: 0\/2 workers booted; nothing more was sent to Puma/,
      )
      assert.equal(result.stdout, '')
      assert.ok(fake.isAlive(), 'the master was stopped')
    })
  })

  describe('the same output as through oclif (PUMA_CTL_FAST_PATH=0)', () => {
    for (const args of [
      (c: PumaCluster) => ['status', '--pidfile', c.pidfile],
      (c: PumaCluster) => ['status', '--pidfile', c.pidfile, '--json'],
      () => ['status', '--pid', '1'],
      () => ['status', '--pid', '1', '--json'],
      () => ['stop', '--pidfile', '/nonexistent/puma.pid'],
      () => ['phased-restart', '--pid', 'abc', '--json'],
      () => ['worker-count-up', '--state', '/dev/null'],
      () => ['stats', '--pid', String(process.pid)],
    ]) {
      it(`ctl ${args({pidfile: 'PIDFILE'} as PumaCluster).join(' ')}`, async () => {
        const [fast, oclif] = await both(args(cluster))
        assert.equal(fast.code, oclif.code, `${fast.stderr}\n---\n${oclif.stderr}`)
        assert.equal(steady(fast.stdout), steady(oclif.stdout))
        assert.equal(steady(fast.stderr), steady(oclif.stderr))
      })
    }
  })
})
