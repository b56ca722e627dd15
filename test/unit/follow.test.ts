import {strict as assert} from 'node:assert'
import {createWriteStream, existsSync, readdirSync, readFileSync, type WriteStream} from 'node:fs'
import {
  appendFile,
  copyFile,
  mkdir,
  mkdtemp,
  open,
  rename,
  rm,
  stat,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {setTimeout as delay} from 'node:timers/promises'

import {DEFAULT_MAX_LINE_BYTES, followLog, type FollowOptions, logEnd, type LogPosition} from '../../src/log/follow.js'

/**
 * Written after the lines under test by stop(): once the follower has read it, it has read everything
 * before it, so a line read twice would be in the list by then. Short, to pass under a 10-byte line cap.
 */
const MARKER = '~end~'

/** Every follower started, so that a failed test cannot leave one running (mocha would hang). */
const running: Array<{controller: AbortController; done: Promise<void>}> = []

/**
 * Time for the follower to reach a state it signals no event for (an unfinished line read, a missing
 * file being waited on), before the test changes the file. Not a check for duplicates: stop() does that.
 */
const IDLE_MS = 150

const nothing = () => {}

/** The file's last byte, without reading a 1 GiB file whole. */
async function lastByte(path: string): Promise<string> {
  const file = await open(path)
  try {
    const {size} = await file.stat()
    const {buffer} = await file.read(Buffer.alloc(1), 0, 1, Math.max(0, size - 1))
    return buffer.toString('latin1')
  } finally {
    await file.close()
  }
}

/** Consumes followLog in the background, the way the restart runner does. */
function startFollowing(path: string, from: LogPosition, options: Partial<FollowOptions> = {}) {
  const controller = new AbortController()
  const lines: string[] = []
  let notify = nothing
  let failure: unknown
  const done = (async () => {
    try {
      for await (const line of followLog(path, {from, signal: controller.signal, ...options})) {
        lines.push(line)
        notify()
      }
    } catch (error) {
      failure = error
    } finally {
      notify()
    }
  })()

  /** Resolves once `accepts` holds for the lines received (or `count` lines have arrived); fails after `ms`. */
  async function waitFor(count: ((got: string[]) => boolean) | number, ms = 5000): Promise<void> {
    const accepts = typeof count === 'number' ? (got: string[]) => got.length >= count : count
    const deadline = Date.now() + ms
    while (!accepts(lines)) {
      if (failure) throw failure
      // eslint-disable-next-line no-await-in-loop -- one line at a time, in order
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${count}; got ${JSON.stringify(lines)}`)),
          Math.max(0, deadline - Date.now()),
        )
        notify = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  /** Writes the marker after the lines under test, waits until it is read, stops, and returns the lines before it. */
  async function stop(): Promise<string[]> {
    assert.equal(await lastByte(path), '\n', 'stop() needs the log to end with a whole line')
    await appendFile(path, `${MARKER}\n`)
    await waitFor((got) => got.includes(MARKER))
    controller.abort()
    await done
    if (failure) throw failure
    assert.equal(lines.at(-1), MARKER, 'a line arrived after the marker')
    return lines.slice(0, -1)
  }

  running.push({controller, done})
  return {controller, done, lines, stop, waitFor}
}

async function write(stream: WriteStream, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (error) => (error ? reject(error) : resolve()))
  })
}

async function end(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.end(resolve)
  })
}

const openFds = () => readdirSync('/proc/self/fd').length
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- in Node 20, only marked experimental
const countResources = (type: string) => process.getActiveResourcesInfo().filter((name) => name === type).length
/** Bytes this process has read (/proc/self/io), or 0 where the kernel does not say. */
const readBytes = () =>
  existsSync('/proc/self/io') ? Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]) : 0

/** Runs the steps one after another: the order of writes is what these tests are about. */
async function inOrder<T>(items: Iterable<T>, step: (item: T) => Promise<void>): Promise<void> {
  // eslint-disable-next-line no-await-in-loop -- one at a time, on purpose
  for (const item of items) await step(item)
}

const range = (n: number) => Array.from({length: n}, (_, i) => i)

describe('log/follow', () => {
  let dir: string
  let log: string
  const streams: WriteStream[] = []

  /** An append-mode writer held open, like Puma's redirected stdout. */
  function holdWriter(path = log): WriteStream {
    const stream = createWriteStream(path, {flags: 'a'})
    streams.push(stream)
    return stream
  }

  before(async () => {
    // libuv opens its inotify descriptor on the first watch and keeps it: open it before counting fds.
    const warm = await mkdtemp(join(tmpdir(), 'ctl-follow-'))
    const follower = startFollowing(join(warm, 'x.log'), await logEnd(join(warm, 'x.log')))
    await delay(20)
    follower.controller.abort()
    await follower.done
    await rm(warm, {recursive: true, force: true})
  })

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctl-follow-'))
    log = join(dir, 'puma.log')
  })

  afterEach(async () => {
    for (const {controller} of running) controller.abort()
    await Promise.all(running.splice(0).map(({done}) => done))
    await Promise.all(streams.splice(0).map((stream) => end(stream)))
    await rm(dir, {recursive: true, force: true})
  })

  describe('logEnd', () => {
    it('notes the size and identity of the file', async () => {
      await writeFile(log, 'one\ntwo\n')
      const info = await stat(log)
      assert.deepEqual(await logEnd(log), {offset: 8, dev: info.dev, ino: info.ino})
    })

    it('gives offset 0 and no identity for a missing file', async () => {
      assert.deepEqual(await logEnd(join(dir, 'nope.log')), {offset: 0, dev: 0, ino: 0})
    })
  })

  describe('followLog', () => {
    it('yields only the lines written after the noted end, in order', async () => {
      await writeFile(log, 'old 1\nold 2\nold 3\n')
      const follower = startFollowing(log, await logEnd(log))
      await appendFile(log, 'new 1\n')
      await follower.waitFor(1)
      await appendFile(log, 'new 2\nnew 3\n')
      await appendFile(log, 'new 4\n')
      await follower.waitFor(4)
      assert.deepEqual(await follower.stop(), ['new 1', 'new 2', 'new 3', 'new 4'])
    })

    it('includes lines written between logEnd and the start of the iteration', async () => {
      await writeFile(log, 'old\n')
      const from = await logEnd(log)
      await appendFile(log, 'early 1\nearly 2\n') // e.g. Puma answering the signal before we iterate
      const follower = startFollowing(log, from)
      await follower.waitFor(2)
      await appendFile(log, 'late\n')
      await follower.waitFor(3)
      assert.deepEqual(await follower.stop(), ['early 1', 'early 2', 'late'])
    })

    it('wakes on change events, not on the safety poll, within a few milliseconds', async () => {
      await writeFile(log, '')
      const follower = startFollowing(log, await logEnd(log), {safetyPollMs: 60_000})
      await delay(50)
      await inOrder(range(5), async (i) => {
        const started = performance.now()
        await appendFile(log, `line ${i}\n`)
        await follower.waitFor(i + 1)
        // Generous: only proves liveness without the poll; typically ~1 ms (see the report).
        assert.ok(performance.now() - started < 500, 'line took more than 500 ms to arrive')
      })

      assert.deepEqual(await follower.stop(), ['line 0', 'line 1', 'line 2', 'line 3', 'line 4'])
    })

    it('yields a line written in pieces once, whole, when its newline arrives', async () => {
      await writeFile(log, 'old\n')
      const follower = startFollowing(log, await logEnd(log))
      const writer = holdWriter()
      await write(writer, '[42] - Worker 0 (PID: 43) ')
      await delay(IDLE_MS)
      assert.deepEqual(follower.lines, [], 'an unfinished line was yielded')
      await write(writer, 'booted in 0.5s, ')
      await delay(30)
      await write(writer, 'phase: 1\n[42] next')
      await follower.waitFor(1)
      await write(writer, ' line\n')
      await follower.waitFor(2)
      assert.deepEqual(await follower.stop(), ['[42] - Worker 0 (PID: 43) booted in 0.5s, phase: 1', '[42] next line'])
    })

    it(String.raw`strips \r\n and keeps empty lines`, async () => {
      await writeFile(log, '')
      const follower = startFollowing(log, await logEnd(log))
      await appendFile(log, 'dos\r\nunix\n\n\r\nlast\n')
      await follower.waitFor(5)
      assert.deepEqual(await follower.stop(), ['dos', 'unix', '', '', 'last'])
    })

    it('yields what completes a line unfinished when the end was noted: Puma may have glued its line to it', async () => {
      await writeFile(log, 'old 1\nold 2 without a newline')
      const follower = startFollowing(log, await logEnd(log))
      await appendFile(log, '[1234] - Starting phased worker restart, phase: 1\nnew 1\n')
      await follower.waitFor(2)
      assert.deepEqual(await follower.stop(), ['[1234] - Starting phased worker restart, phase: 1', 'new 1'])
    })

    it('follows a rename-and-reopen rotation: the old file to its end, then the new one from 0', async () => {
      const writer = holdWriter()
      await write(writer, 'before\n')
      const follower = startFollowing(log, await logEnd(log))
      await write(writer, 'A1\nA2\n')
      await follower.waitFor(2)

      // logrotate `create`: rename, then a new empty file at the path.
      await rename(log, `${log}.1`)
      await writeFile(log, '')
      // The writer has not reopened yet: these go to puma.log.1.
      await write(writer, 'B1 (old file, after rename)\n')
      await delay(30)
      await write(writer, 'B2 (old file, after rename)\n')
      await follower.waitFor(4)

      // The writer reopens (Puma on SIGHUP) and writes to the new file.
      const reopened = holdWriter()
      await write(reopened, 'C1 (new file)\n')
      await write(reopened, 'C2 (new file)\n')
      await follower.waitFor(6)

      assert.deepEqual(await follower.stop(), [
        'A1',
        'A2',
        'B1 (old file, after rename)',
        'B2 (old file, after rename)',
        'C1 (new file)',
        'C2 (new file)',
      ])
    })

    it('reads every line exactly once when old and new files are written in a burst during rotation', async () => {
      const writer = holdWriter()
      const follower = startFollowing(log, await logEnd(log))
      const old: string[] = []
      const fresh: string[] = []
      for (let i = 0; i < 50; i++) old.push(`old ${i}`)
      for (let i = 0; i < 50; i++) fresh.push(`new ${i}`)

      await write(
        writer,
        old
          .slice(0, 25)
          .map((line) => `${line}\n`)
          .join(''),
      )
      await rename(log, `${log}.1`)
      const reopened = holdWriter()
      await inOrder(range(25), async (i) => {
        // Interleaved, as when some processes have reopened the log and some have not yet.
        await write(writer, `${old[25 + i]}\n`)
        await write(reopened, `${fresh[2 * i]}\n${fresh[2 * i + 1]}\n`)
      })

      await follower.waitFor(100)
      const lines = await follower.stop()
      assert.equal(lines.length, 100)
      // Across two files there is no global order; within each file the order is kept.
      assert.deepEqual(
        lines.filter((line) => line.startsWith('old')),
        old,
      )
      assert.deepEqual(
        lines.filter((line) => line.startsWith('new')),
        fresh,
      )
    })

    it('follows copytruncate: the file is truncated in place and read again from 0', async () => {
      const writer = holdWriter()
      await write(writer, 'before\n')
      const follower = startFollowing(log, await logEnd(log))
      await write(writer, 'A1 a line long enough to make the truncated file smaller\nA2 another long line, too\n')
      await follower.waitFor(2)

      await copyFile(log, `${log}.1`)
      await truncate(log, 0)
      // O_APPEND: the writer continues at the new end, 0.
      await write(writer, 'B1\n')
      await follower.waitFor(3)
      await write(writer, 'B2\n')
      await follower.waitFor(4)

      assert.deepEqual(await follower.stop(), [
        'A1 a line long enough to make the truncated file smaller',
        'A2 another long line, too',
        'B1',
        'B2',
      ])
    })

    it('keeps waiting when the file is deleted, reads what is still written to it, then the recreated file', async () => {
      const writer = holdWriter()
      const follower = startFollowing(log, await logEnd(log))
      await write(writer, 'A1\n')
      await follower.waitFor(1)

      await unlink(log)
      await write(writer, 'A2 (deleted file)\n')
      await follower.waitFor(2)
      await end(writer)
      await delay(IDLE_MS)

      await appendFile(log, 'B1 (recreated)\n')
      await follower.waitFor(3)
      await appendFile(log, 'B2 (recreated)\n')
      await follower.waitFor(4)
      assert.deepEqual(await follower.stop(), ['A1', 'A2 (deleted file)', 'B1 (recreated)', 'B2 (recreated)'])
    })

    it('waits for a file that does not exist yet and reads it from its start', async () => {
      const from = await logEnd(log)
      const follower = startFollowing(log, from)
      await delay(IDLE_MS)
      await appendFile(log, 'first\nsecond\n')
      await follower.waitFor(2)
      await appendFile(log, 'third\n')
      await follower.waitFor(3)
      assert.deepEqual(await follower.stop(), ['first', 'second', 'third'])
    })

    it('reads a file that replaced the noted one before the iteration started from its start', async () => {
      await writeFile(log, 'old\n')
      const from = await logEnd(log)
      await rename(log, `${log}.1`)
      await writeFile(log, 'new 1\n')
      const follower = startFollowing(log, from)
      await follower.waitFor(1)
      assert.deepEqual(await follower.stop(), ['new 1'])
    })

    it('decodes invalid UTF-8 leniently and keeps characters split across writes', async () => {
      await writeFile(log, '')
      const follower = startFollowing(log, await logEnd(log))
      const writer = holdWriter()
      await write(writer, Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a])) // a, two invalid bytes, b
      await write(writer, Buffer.from([0x63, 0xc3])) // c, first byte of é
      await delay(30)
      await write(writer, Buffer.from([0xa9, 0x0a])) // rest of é
      await write(writer, Buffer.from([0xe2, 0x82, 0x0a])) // an unfinished three-byte sequence
      await write(writer, 'fine ✔\n')
      await follower.waitFor(4)
      assert.deepEqual(await follower.stop(), ['a\uFFFD\uFFFDb', 'cé', '\uFFFD', 'fine ✔'])
    })

    it('keeps the first 64 KiB of an overlong line and drops the rest', async () => {
      await writeFile(log, '')
      const follower = startFollowing(log, await logEnd(log))
      const writer = holdWriter()
      // 5 MB with no newline, in pieces: only the first 64 KiB may be kept, cut inside a piece.
      await write(writer, 'a'.repeat(DEFAULT_MAX_LINE_BYTES - 100))
      await delay(30)
      await inOrder(range(5), async () => {
        await write(writer, 'b'.repeat(1024 * 1024))
        await delay(10)
      })

      assert.deepEqual(follower.lines, [])
      await write(writer, 'b\nafter\n')
      await follower.waitFor(2)
      const lines = await follower.stop()
      assert.equal(lines.length, 2)
      assert.ok(lines[0] === 'a'.repeat(DEFAULT_MAX_LINE_BYTES - 100) + 'b'.repeat(100), 'not the first 64 KiB')
      assert.equal(lines[1], 'after')
    })

    it('takes the line cap as an option', async () => {
      await writeFile(log, '')
      const follower = startFollowing(log, await logEnd(log), {maxLineBytes: 10})
      await appendFile(log, '0123456789abcdef\nshort\n0123456789\n')
      await follower.waitFor(3)
      assert.deepEqual(await follower.stop(), ['0123456789', 'short', '0123456789'])
    })

    it('starts on a 1 GiB file as fast as on a tiny one, without reading or buffering it', async () => {
      const big = join(dir, 'big.log')
      const tiny = join(dir, 'tiny.log')
      await writeFile(tiny, 'old\n')
      await writeFile(big, '')
      await truncate(big, 1024 ** 3) // sparse: 1 GiB without writing it
      await appendFile(big, 'old\n')

      const firstLineAfter = async (path: string) => {
        const started = performance.now()
        const follower = startFollowing(path, await logEnd(path))
        await appendFile(path, 'new\n')
        await follower.waitFor(1)
        const elapsed = performance.now() - started
        assert.deepEqual(await follower.stop(), ['new'])
        return elapsed
      }

      const tinyMs = await firstLineAfter(tiny)
      const rssBefore = process.memoryUsage().rss
      const readBefore = readBytes()
      const bigMs = await firstLineAfter(big)
      const read = readBytes() - readBefore
      const grown = process.memoryUsage().rss - rssBefore

      assert.ok(bigMs < 250, `1 GiB file: first line after ${bigMs.toFixed(1)} ms (tiny: ${tinyMs.toFixed(1)} ms)`)
      assert.ok(grown < 32 * 1024 * 1024, `memory grew by ${grown} bytes`)
      assert.ok(read < 1024 * 1024, `read ${read} bytes`)
    })

    it('closes every watcher, timer and file when the signal aborts, promptly', async () => {
      await writeFile(log, '')
      const fdsBefore = openFds()
      const watchersBefore = countResources('FSEventWrap')
      const timersBefore = countResources('Timeout')

      const follower = startFollowing(log, await logEnd(log))
      await appendFile(log, 'one\n')
      await follower.waitFor(1)
      assert.ok(openFds() > fdsBefore, 'the log is not open while following')
      assert.equal(countResources('FSEventWrap'), watchersBefore + 2) // the file and its directory
      assert.equal(countResources('Timeout'), timersBefore + 1) // the safety poll

      // Abort while the follower is waiting for the next line.
      const started = performance.now()
      follower.controller.abort()
      await follower.done
      assert.ok(performance.now() - started < 100, 'the iteration did not end promptly')
      assert.deepEqual(follower.lines, ['one'])
      assert.equal(openFds(), fdsBefore)
      assert.equal(countResources('FSEventWrap'), watchersBefore)
      assert.equal(countResources('Timeout'), timersBefore)
    })

    it('closes everything when the consumer breaks out of the loop, and after a rotation too', async () => {
      await writeFile(log, '')
      const fdsBefore = openFds()
      const watchersBefore = countResources('FSEventWrap')
      const timersBefore = countResources('Timeout')
      const controller = new AbortController()
      const from = await logEnd(log)
      const guard = setTimeout(() => controller.abort(), 5000) // a failure must not hang the run

      setTimeout(async () => {
        await appendFile(log, 'one\n')
        await rename(log, `${log}.1`)
        await appendFile(log, 'two\nthree\n')
      }, 20)
      const lines: string[] = []
      for await (const line of followLog(log, {from, signal: controller.signal})) {
        lines.push(line)
        if (line === 'two') break
      }

      clearTimeout(guard)
      assert.deepEqual(lines, ['one', 'two'])
      assert.equal(controller.signal.aborted, false)
      assert.equal(openFds(), fdsBefore)
      assert.equal(countResources('FSEventWrap'), watchersBefore)
      assert.equal(countResources('Timeout'), timersBefore)
    })

    it('yields nothing and opens nothing when the signal has already aborted', async () => {
      await writeFile(log, 'old\n')
      const from = await logEnd(log)
      await appendFile(log, 'new\n')
      const fdsBefore = openFds()
      const lines: string[] = []
      for await (const line of followLog(log, {from, signal: AbortSignal.abort()})) lines.push(line)
      assert.deepEqual(lines, [])
      assert.equal(openFds(), fdsBefore)
    })

    it('still wakes on the safety poll alone', async () => {
      // A directory that does not exist yet cannot be watched: only the poll can find the file.
      const later = join(dir, 'later', 'puma.log')
      const follower = startFollowing(later, await logEnd(later), {safetyPollMs: 50})
      await delay(IDLE_MS)
      await mkdir(join(dir, 'later'))
      await appendFile(later, 'found\n')
      await follower.waitFor(1)
      assert.deepEqual(await follower.stop(), ['found'])
    })
  })
})
