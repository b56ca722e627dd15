import {strict as assert} from 'node:assert'
import {type ChildProcess, spawn} from 'node:child_process'
import {once} from 'node:events'
import {existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {createServer as createHttpServer, get as httpGet, type Server as HttpServer} from 'node:http'
import {type AddressInfo, createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {binRun} from '../helpers/paths.js'
import {isAlive, killQuietly, readOrEmpty, stoppedAfter, waitFor} from '../helpers/processes.js'
import {type PumaCluster, startPumaCluster} from '../helpers/puma-cluster.js'
import {type CtlResult, jsonOf, runCtl, startCtl} from '../helpers/run-ctl.js'

const MiB = 1024 * 1024

/** Workers that take half a minute to boot: a phased restart stays under way while the test acts. */
const SLOW_BOOT_APP = "sleep 30\nrun ->(env) { [200, {}, ['slow']] }\n"

/** A process's descendants, from /proc/PID/stat's parent field. */
function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    // The name, in parentheses, may hold spaces: the fields after its last ')' are fixed.
    const stat = readOrEmpty(`/proc/${entry}/stat`)
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (ppid) parents.set(Number(entry), ppid)
  }

  const found: number[] = []
  let generation = [pid]
  while (generation.length > 0) {
    generation = [...parents].filter(([, parent]) => generation.includes(parent)).map(([child]) => child)
    found.push(...generation)
  }

  return found
}

/** The status of GET / on Puma's port: its old workers serve while a restart is under way. */
function statusOf(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    httpGet({host: '127.0.0.1', port, path: '/', timeout: 5000}, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
      .on('timeout', function (this: {destroy(error: Error): void}) {
        this.destroy(new Error('no answer within 5 s'))
      })
      .on('error', reject)
  })
}

/** After ctl stopped waiting: the master is the same process, nothing stopped or restarted it, and it serves. */
async function assertUntouched(cluster: PumaCluster): Promise<void> {
  assert.ok(isAlive(cluster.pid), 'the master runs')
  assert.equal(readOrEmpty(cluster.pidfile).trim(), String(cluster.pid), 'the same master')
  assert.doesNotMatch(
    readOrEmpty(cluster.logPath).split('Starting phased worker restart')[1] ?? '',
    /Gracefully shutting down|Restarting\.\.\.|Goodbye/,
    'nothing more was sent to Puma',
  )
  assert.equal(await statusOf(cluster.port), 200, 'Puma still serves')
}

function assertReaped(children: number[]): void {
  for (const pid of children) assert.equal(isAlive(pid), false, `ctl's child ${pid} outlived it`)
}

/** ctl's one interruption line: where the restart stood, and that nothing more was sent. */
const INTERRUPTED_LINE = /interrupted while waiting: phase 1: 0\/2 workers booted; nothing more was sent to Puma/
/**
 * The same under --json, which shows no progress to wait for: the test signals once Puma has logged
 * the restart's start, which ctl may have read or not yet.
 */
const INTERRUPTED_JSON =
  /interrupted while waiting: (phase 1: 0\/2 workers booted|waiting for Puma to start the phased restart); nothing more was sent to Puma$/

/** Starts the restart, waits until ctl waits for the new phase, signals ctl, and returns what it did. */
async function interrupt(
  cluster: PumaCluster,
  signal: NodeJS.Signals,
  options: {env?: NodeJS.ProcessEnv; extra?: string[]} = {},
): Promise<{children: number[]; result: CtlResult}> {
  const args = ['phased-restart', '--pidfile', cluster.pidfile, '--timeout', '60', ...(options.extra ?? [])]
  const run = startCtl(args, {env: options.env})
  // Under --json ctl prints no progress: Puma's log says when the wait is under way.
  await waitFor(
    () => /Starting phased worker restart/.test(readOrEmpty(cluster.logPath)),
    20_000,
    () => run.stderrSoFar(),
  )
  if (!options.extra?.includes('--json'))
    await waitFor(() => /started the phased restart: phase 1/.test(run.stderrSoFar()), 10_000, run.stderrSoFar)
  const children = descendantsOf(run.child.pid!)
  run.child.kill(signal)
  return {children, result: await run.result}
}

/**
 * ctl in a terminal, as a person runs it; `signalled` is sent once the spinner shows the
 * restart's progress (under --json: once Puma logged its start), to ctl alone or, as Ctrl-C
 * does, to its process group.
 */
async function inTerminal(
  cluster: PumaCluster,
  signalled: {group: boolean; signal: NodeJS.Signals},
  {env = {}, extra = [], started}: {env?: NodeJS.ProcessEnv; extra?: string[]; started(terminal: ChildProcess): void},
): Promise<{children: number[]; code: null | number; output: string}> {
  const command = `stty cols 100 rows 30; exec "${process.execPath}" "${binRun}" phased-restart --pidfile "${cluster.pidfile}" --timeout 60 ${extra.join(' ')}`
  const terminal = spawn('script', ['-qfec', command, '/dev/null'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so that a guard can end it
    env: {...process.env, NO_COLOR: '1', ...env},
  })
  started(terminal)
  let output = ''
  terminal.stdout!.on('data', (chunk) => {
    output += chunk
  })
  const closed = once(terminal, 'close')
  const waiting = extra.includes('--json')
    ? () => /Starting phased worker restart/.test(readOrEmpty(cluster.logPath))
    : () => /phase 1: 0\/2 workers booted/.test(output)
  await waitFor(waiting, 20_000, () => output)
  // script's child: the shell that exec'd ctl, leading its own process group on the terminal.
  const [ctl] = readOrEmpty(`/proc/${terminal.pid}/task/${terminal.pid}/children`).trim().split(' ').map(Number)
  assert.match(readOrEmpty(`/proc/${ctl}/cmdline`), /run\.js/)
  const children = descendantsOf(ctl)
  process.kill(signalled.group ? -ctl : ctl, signalled.signal)
  const [code] = (await closed) as [null | number]
  return {children, code, output}
}

describe('interrupts and remote answers (end to end)', function () {
  this.timeout(90_000)

  describe('signals to ctl while it waits for a real Puma restart', () => {
    const start = stoppedAfter('afterEach', startPumaCluster)
    let bin: string | undefined

    afterEach(() => {
      if (bin) rmSync(bin, {recursive: true, force: true})
      bin = undefined
    })

    /** A cluster whose phased restart will take half a minute. */
    async function slowCluster(): Promise<PumaCluster> {
      const cluster = await start({workers: 2})
      cluster.setApp(SLOW_BOOT_APP)
      return cluster
    }

    /** journalctl for ctl's PATH: a shell that becomes `tail -F` of Puma's log, a real child process of ctl. */
    function standInJournal(cluster: PumaCluster): NodeJS.ProcessEnv {
      bin = mkdtempSync(join(tmpdir(), 'ctl-journalctl-'))
      writeFileSync(
        join(bin, 'journalctl'),
        `#!/bin/sh\necho $$ > "${bin}/pid"\nexec tail -n 0 -F "${cluster.logPath}"\n`,
        {mode: 0o755},
      )
      return {PATH: `${bin}:${process.env.PATH}`}
    }

    it('SIGTERM: exit 143 with the line naming the signal; Puma untouched', async () => {
      const cluster = await slowCluster()
      const {result} = await interrupt(cluster, 'SIGTERM')
      assert.equal(result.code, 143, result.stderr)
      assert.equal(result.signal, null, 'ctl exited by itself')
      assert.match(result.stderr, new RegExp(`^Error: SIGTERM received: ${INTERRUPTED_LINE.source}$`, 'm'))
      assert.equal(result.stdout, '')
      await assertUntouched(cluster)
    })

    it('SIGHUP under --json: exit 129 and one JSON object saying where the restart stood', async () => {
      const cluster = await slowCluster()
      const {result} = await interrupt(cluster, 'SIGHUP', {extra: ['--json']})
      assert.equal(result.code, 129, result.stderr)
      const {error} = jsonOf(result)
      assert.equal(error.exitCode, 129)
      assert.equal(error.signal, 'SIGHUP')
      assert.match(error.message, new RegExp(`^SIGHUP received: ${INTERRUPTED_JSON.source}`))
      await assertUntouched(cluster)
    })

    it('SIGINT: exit 130 with the line; Puma untouched', async () => {
      const cluster = await slowCluster()
      const {result} = await interrupt(cluster, 'SIGINT')
      assert.equal(result.code, 130, result.stderr)
      assert.match(result.stderr, new RegExp(`^Error: ${INTERRUPTED_LINE.source}$`, 'm'))
      await assertUntouched(cluster)
    })

    it('SIGTERM through oclif (PUMA_CTL_FAST_PATH=0): the same exit 143 and line', async () => {
      const cluster = await slowCluster()
      const {result} = await interrupt(cluster, 'SIGTERM', {env: {PUMA_CTL_FAST_PATH: '0'}})
      assert.equal(result.code, 143, result.stderr)
      assert.match(result.stderr, new RegExp(`^Error: SIGTERM received: ${INTERRUPTED_LINE.source}$`, 'm'))
      await assertUntouched(cluster)
    })

    it('SIGTERM while `ctl stop` waits for Puma to drain a request: exit 143, saying what was sent', async () => {
      const cluster = await start({workers: 1})
      const busy = join(cluster.dir, 'busy')
      // A request that takes 20 s: Puma's graceful stop waits for it.
      cluster.setApp(`run ->(env) { File.write('${busy}', ''); sleep 20; [200, {}, ['late']] }\n`)
      process.kill(cluster.pid, 'SIGUSR2') // a hot restart loads the app above
      await waitFor(() => (readOrEmpty(cluster.logPath).match(/booted in/g) ?? []).length >= 2, 20_000)
      statusOf(cluster.port).catch(() => {}) // in flight until Puma is killed after the test
      await waitFor(() => existsSync(busy), 10_000)
      const run = startCtl(['stop', '--pidfile', cluster.pidfile, '--timeout', '60'])
      await waitFor(() => /waiting up to 60 s/.test(run.stderrSoFar()), 10_000, run.stderrSoFar)
      run.child.kill('SIGTERM')
      const result = await run.result
      assert.equal(result.code, 143, result.stderr)
      assert.match(
        result.stderr,
        new RegExp(
          `^Error: SIGTERM received: stopped waiting: pid ${cluster.pid} had been sent SIGTERM and was still running$`,
          'm',
        ),
      )
    })

    for (const [signal, code] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
      ['SIGHUP', 129],
    ] as const) {
      it(`following the journal, ${signal} under --json: exit ${code}, one JSON object, and journalctl reaped`, async () => {
        const cluster = await slowCluster()
        const env = standInJournal(cluster)
        const {children, result} = await interrupt(cluster, signal, {
          env,
          extra: ['--journal', 'puma.service', '--json'],
        })
        assert.equal(result.code, code, result.stderr)
        const {error} = jsonOf(result)
        assert.equal(error.exitCode, code)
        assert.equal(error.signal, signal)
        assert.match(error.message, INTERRUPTED_JSON)
        const journalctl = Number(readOrEmpty(join(bin!, 'pid')))
        assert.ok(children.includes(journalctl), `journalctl ${journalctl} was ctl's child: ${children.join(', ')}`)
        assertReaped(children)
        await assertUntouched(cluster)
      })
    }

    describe('on a terminal (a pseudo-terminal from script(1))', () => {
      let terminal: ChildProcess | undefined
      const started = (child: ChildProcess) => {
        terminal = child
      }

      afterEach(() => {
        // A ctl that never ends must fail the test, not outlive it: script and ctl, by PID.
        if (terminal?.exitCode === null && terminal.signalCode === null && terminal.pid)
          process.kill(-terminal.pid, 'SIGKILL')
        terminal = undefined
      })

      it('Ctrl-C (SIGINT to ctl) while the spinner runs: the line and exit 130, not a silent death', async () => {
        const cluster = await slowCluster()
        const {children, code, output} = await inTerminal(cluster, {signal: 'SIGINT', group: false}, {started})
        assert.equal(code, 130, output)
        assert.match(output, INTERRUPTED_LINE)
        assertReaped(children)
        await assertUntouched(cluster)
      })

      it("Ctrl-C to the terminal's process group while following the journal: journalctl dies too, ctl still says where it stood", async () => {
        const cluster = await slowCluster()
        const env = standInJournal(cluster)
        const {children, code, output} = await inTerminal(
          cluster,
          {signal: 'SIGINT', group: true},
          {env, extra: ['--journal', 'puma.service'], started},
        )
        assert.equal(code, 130, output)
        assert.match(output, INTERRUPTED_LINE)
        assert.ok(children.length > 0, 'journalctl ran')
        assertReaped(children)
        await assertUntouched(cluster)
      })

      for (const forwarded of [false, true]) {
        const how = forwarded
          ? 'stderr to a file, and the shell forwards the SIGHUP (as a login shell does): the line in the file'
          : 'the spinner on it finds it gone (EIO)'
        it(`the terminal hangs up (an SSH session closing), ${how}: ends by SIGHUP (129), no crash, children reaped`, async () => {
          const cluster = await slowCluster()
          const env = standInJournal(cluster)
          const [stderrFile, codeFile] = [join(bin!, 'stderr'), join(bin!, 'code')]
          // The shell ignores the hangup, to report ctl's status.
          const command = `trap '' HUP; stty cols 100 rows 30; "${process.execPath}" "${binRun}" phased-restart --pidfile "${cluster.pidfile}" --timeout 60 --journal puma.service ${forwarded ? `2>"${stderrFile}"` : ''}; echo $? > "${codeFile}"`
          const script = spawn('script', ['-qfec', command, '/dev/null'], {
            stdio: ['ignore', 'pipe', 'ignore'],
            detached: true,
            env: {...process.env, ...env},
          })
          started(script)
          let output = ''
          script.stdout!.on('data', (chunk) => {
            output += chunk
          })
          const waiting = forwarded
            ? () => /started the phased restart: phase 1/.test(readOrEmpty(stderrFile))
            : () => /phase 1: 0\/2 workers booted/.test(output)
          await waitFor(waiting, 20_000, () => output)
          const [shell] = readOrEmpty(`/proc/${script.pid}/task/${script.pid}/children`).trim().split(' ').map(Number)
          const [ctl] = readOrEmpty(`/proc/${shell}/task/${shell}/children`).trim().split(' ').map(Number)
          try {
            assert.match(readOrEmpty(`/proc/${ctl}/cmdline`), /run\.js/)
            const children = descendantsOf(ctl)
            script.kill('SIGKILL') // the terminal's other end closes: the kernel hangs the terminal up
            if (forwarded) {
              await waitFor(() => readOrEmpty(`/proc/${ctl}/stat`).split(' ')[6] === '0', 5000) // no terminal any more
              killQuietly(ctl, 'SIGHUP')
            }

            await waitFor(
              () => readOrEmpty(codeFile) !== '',
              10_000,
              () => readOrEmpty(stderrFile),
            )
            assert.equal(readOrEmpty(codeFile).trim(), '129', readOrEmpty(stderrFile))
            if (forwarded) {
              const stderr = readOrEmpty(stderrFile)
              assert.match(stderr, new RegExp(`^Error: SIGHUP received: ${INTERRUPTED_LINE.source}$`, 'm'))
              assert.doesNotMatch(stderr, /Assertion failed|stack trace/i)
            }

            assertReaped(children)
            await assertUntouched(cluster)
          } finally {
            killQuietly(ctl, 'SIGKILL')
          }
        })
      }

      it('SIGTERM under --json on a terminal: one JSON object, exit 143', async () => {
        const cluster = await slowCluster()
        const {code, output} = await inTerminal(
          cluster,
          {signal: 'SIGTERM', group: false},
          {extra: ['--json'], started},
        )
        assert.equal(code, 143, output)
        // A terminal turns \n into \r\n.
        const {error} = JSON.parse(output.replaceAll('\r\n', '\n'))
        assert.equal(error.exitCode, 143)
        assert.equal(error.signal, 'SIGTERM')
        assert.match(error.message, new RegExp(`^SIGTERM received: ${INTERRUPTED_JSON.source}`))
        await assertUntouched(cluster)
      })
    })
  })

  describe('probes with an end', () => {
    const start = stoppedAfter('afterEach', startPumaCluster)
    const servers: Array<HttpServer | Server> = []

    afterEach(() => {
      for (const server of servers.splice(0)) server.close()
    })

    it('--health-timeout 2 against a 200 whose body trickles a byte a second: exit 8 about 2 s after the probe began', async () => {
      const cluster = await start({workers: 2})
      let firstRequestAt: number | undefined
      const server = createHttpServer((_request, response) => {
        firstRequestAt ??= Date.now()
        response.writeHead(200, {'Content-Type': 'text/plain'})
        const timer = setInterval(() => response.write('.'), 1000)
        response.on('close', () => clearInterval(timer))
      })
      servers.push(server)
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/up`
      for (const json of [false, true]) {
        firstRequestAt = undefined
        // eslint-disable-next-line no-await-in-loop -- one restart after the other, on the same cluster
        const result = await runCtl([
          'phased-restart',
          '--pidfile',
          cluster.pidfile,
          '--health-url',
          url,
          '--health-timeout',
          '2',
          ...(json ? ['--json'] : []),
        ])
        const probing = Date.now() - firstRequestAt!
        assert.equal(result.code, 8, result.stderr)
        assert.ok(probing >= 1900 && probing < 6000, `the probe took ${probing} ms`)
        const line = `health check ${url} failed after the restart: HTTP 200, but the body did not end within`
        // One line, the last: nothing after it (no stack trace).
        const last = json ? jsonOf(result).error.message : result.stderr.trimEnd().split('\n').at(-1)
        assert.ok(
          last.startsWith(`${json ? '' : 'Error: '}${line} 2.0 s (1 attempts in 2.`),
          result.stderr + result.stdout,
        )
      }
    })

    /** A fake control server that answers any request with a 200 and a body of `bytes`; counts what the kernel took. */
    async function hugeControlServer(bytes: number) {
      const taken = {bytes: 0}
      const server = createServer((socket) => {
        socket.on('error', () => {}) // ctl going away mid-answer
        socket.once('data', () => {
          socket.write('HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n')
          const chunk = Buffer.alloc(MiB, 'x')
          const next = () => {
            if (socket.destroyed || taken.bytes >= bytes) return socket.end()
            socket.write(chunk, (error) => {
              if (error) return
              taken.bytes += chunk.length
              next()
            })
          }

          next()
        })
      })
      servers.push(server)
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      return {url: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, taken}
    }

    it('a control server answering 100 MiB: exit 3 and one line (text) or one JSON object; ctl stops reading', async () => {
      const {url, taken} = await hugeControlServer(100 * MiB)
      const line = `Puma's control server at ${url} sent more than 4 MiB for /stats: not Puma, or broken`
      const text = await runCtl(['stats', '--control-url', url, '--control-token', 'x'])
      assert.equal(text.code, 3, text.stderr)
      assert.equal(text.stderr.split('\n')[0], `Error: ${line}`)
      assert.doesNotMatch(text.stderr, /\n\s+at /, 'no stack trace')
      assert.ok(text.durationMs < 5000, `took ${text.durationMs} ms`)
      assert.ok(taken.bytes < 32 * MiB, `ctl let ${taken.bytes} bytes in`)
      const json = await runCtl(['stats', '--control-url', url, '--control-token', 'x', '--json'])
      assert.equal(json.code, 3)
      assert.deepEqual(jsonOf(json).error, {
        message: line,
        exitCode: 3,
        suggestion: "is this URL Puma's control app? check control_url in the state file, or --control-url",
        command: '/stats',
        maxBytes: 4 * MiB,
      })
    })

    it("a 100 MiB control answer leaves ctl's memory bounded (its peak RSS, from time(1))", async function () {
      if (!existsSync('/usr/bin/time')) this.skip()
      const {url} = await hugeControlServer(100 * MiB)
      const timed = spawn(
        '/usr/bin/time',
        ['-f', 'maxrss=%M', process.execPath, binRun, 'stats', '--control-url', url],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      )
      let stderr = ''
      timed.stderr!.on('data', (chunk) => {
        stderr += chunk
      })
      await once(timed, 'close')
      const kib = Number(/maxrss=(\d+)/.exec(stderr)?.[1])
      assert.ok(kib > 0, stderr)
      assert.ok(kib * 1024 < 100 * MiB, `peak RSS ${Math.round(kib / 1024)} MiB`)
    })
  })
})
