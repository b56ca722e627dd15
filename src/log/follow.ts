import {type FSWatcher, watch} from 'node:fs'
import {type FileHandle, open, stat} from 'node:fs/promises'
import {basename, dirname} from 'node:path'

/**
 * Where a log ended at one moment: taken before ctl signals Puma, so that only the lines the
 * restart causes are read. `dev`/`ino` identify the file, so a rotation in between is noticed.
 */
export interface LogPosition {
  /** Device and inode of the file; both 0 when the file did not exist (0 is never a real inode). */
  readonly dev: number
  readonly ino: number
  /** Byte offset of the end of the file. */
  readonly offset: number
}

export interface FollowOptions {
  /** From logEnd(), taken before anything that writes the lines we are waiting for. */
  from: LogPosition
  /** Longer lines are cut to their first this-many bytes; the rest is dropped (bounded memory). */
  maxLineBytes?: number
  /** Re-check the file this often even without change events (NFS and friends miss them). */
  safetyPollMs?: number
  /** Ends the iteration; everything opened is closed when it does. */
  signal: AbortSignal
}

export const DEFAULT_SAFETY_POLL_MS = 1000
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024
const CHUNK_BYTES = 64 * 1024
const NEWLINE = 0x0a

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT'

/**
 * Notes where the log ends now, in constant time: one stat, whatever the size. When the file ends
 * inside a line (app output without a newline), what follows is read as a line all the same: Puma's
 * next line may be glued to it, and the parser finds Puma's prefix anywhere in a line.
 */
export async function logEnd(path: string): Promise<LogPosition> {
  let file: FileHandle
  try {
    file = await open(path, 'r')
  } catch (error) {
    if (isMissing(error)) return {offset: 0, dev: 0, ino: 0}
    throw error
  }

  try {
    const {size, dev, ino} = await file.stat()
    return {offset: size, dev, ino}
  } finally {
    await file.close()
  }
}

interface TailOptions {
  dev: number
  file: FileHandle
  ino: number
  maxLineBytes: number
  /** Where to start reading. */
  pos: number
  watcher: FSWatcher | undefined
}

/** One open log file: how far we have read it and the unfinished line at its end. */
class Tail {
  readonly dev: number
  readonly ino: number
  private readonly file: FileHandle
  private held: Buffer[] = []
  private heldBytes = 0
  private readonly maxLineBytes: number
  private pos: number
  private readonly watcher: FSWatcher | undefined

  constructor(options: TailOptions) {
    this.file = options.file
    this.dev = options.dev
    this.ino = options.ino
    this.pos = options.pos
    this.watcher = options.watcher
    this.maxLineBytes = options.maxLineBytes
  }

  async close(): Promise<void> {
    this.watcher?.close()
    await this.file.close()
  }

  /**
   * The complete lines appended since the last call, reading in bounded chunks.
   * @yields each line, without its newline
   */
  async *drain(buffer: Buffer, signal: AbortSignal): AsyncGenerator<string> {
    // Smaller than where we are: truncated in place (copytruncate); the writer starts again at 0.
    if ((await this.file.stat()).size < this.pos) this.pos = 0

    for await (const chunk of this.chunks(buffer, signal)) {
      for (const line of this.split(chunk)) {
        if (signal.aborted) return
        yield line
      }
    }
  }

  is(other: {dev: number; ino: number}): boolean {
    return other.dev === this.dev && other.ino === this.ino
  }

  /** The file's bytes from `pos` to its end, one reused buffer at a time, until `signal` aborts. */
  private chunks(buffer: Buffer, signal: AbortSignal): AsyncIterable<Buffer> {
    const next = async (): Promise<IteratorResult<Buffer, undefined>> => {
      if (signal.aborted) return {done: true, value: undefined}
      const {bytesRead} = await this.file.read(buffer, 0, buffer.length, this.pos)
      this.pos += bytesRead
      return bytesRead === 0 ? {done: true, value: undefined} : {done: false, value: buffer.subarray(0, bytesRead)}
    }

    return {[Symbol.asyncIterator]: () => ({next})}
  }

  private finish(end: Buffer): string {
    const room = Math.max(0, this.maxLineBytes - this.heldBytes)
    const tail = end.subarray(0, room)
    const bytes = this.held.length === 0 ? tail : Buffer.concat([...this.held, tail])
    this.held = []
    this.heldBytes = 0
    // toString never throws: invalid UTF-8 becomes U+FFFD.
    const line = bytes.toString('utf8')
    return line.endsWith('\r') ? line.slice(0, -1) : line
  }

  /** Keeps (a copy of: the chunk buffer is reused) the start of an unfinished line, up to the cap. */
  private hold(bytes: Buffer): void {
    const room = this.maxLineBytes - this.heldBytes
    if (room <= 0 || bytes.length === 0) return
    const kept = Buffer.from(bytes.subarray(0, room))
    this.held.push(kept)
    this.heldBytes += kept.length
  }

  private split(chunk: Buffer): string[] {
    const lines: string[] = []
    let start = 0
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      lines.push(this.finish(chunk.subarray(start, nl)))
      start = nl + 1
    }

    this.hold(chunk.subarray(start))
    return lines
  }
}

function tryWatch(path: string, listener: (event: string, name: null | string) => void): FSWatcher | undefined {
  try {
    // A watcher that fails later (its file deleted, say) just goes quiet; the safety poll remains.
    return watch(path, listener).on('error', () => {})
  } catch {
    return undefined // not there yet, or no watch support: the safety poll covers it
  }
}

/**
 * The complete lines written to `path` after `from`.
 *
 * Wakes on change events for the file and its directory, plus a slow safety poll; idle otherwise.
 * Survives rotation: after a rename (logrotate `create`) or delete, the old file stays open and is
 * still read, because writers append to it until they reopen; the new file at `path` is read from
 * its start. At most one old file is kept this way. A file truncated in place (copytruncate) is read
 * again from offset 0. A missing file is waited for.
 *
 * Ends when `signal` aborts or the consumer stops iterating; watchers, the timer and the files are
 * closed either way. While waiting for a line, abort the signal to stop: an async generator's
 * `return()` waits for its pending `next()`. Errors other than a missing file (EACCES) are thrown.
 * @yields each line, without its `\n` or `\r\n`
 */
export async function* followLog(path: string, options: FollowOptions): AsyncGenerator<string, void, undefined> {
  const {signal, safetyPollMs = DEFAULT_SAFETY_POLL_MS, maxLineBytes = DEFAULT_MAX_LINE_BYTES} = options
  let {from}: {from?: LogPosition} = options // applies to the first file opened only
  const name = basename(path)
  const buffer = Buffer.alloc(CHUNK_BYTES)

  const wakeups = changes(signal)
  const openTail = async (): Promise<Tail | undefined> => {
    let file: FileHandle
    try {
      file = await open(path, 'r')
    } catch (error) {
      if (isMissing(error)) return undefined
      throw error
    }

    let stats: {dev: number; ino: number; size: number}
    try {
      stats = await file.stat()
    } catch (error) {
      await file.close()
      throw error
    }

    const {dev, ino, size} = stats
    const start = from
    from = undefined
    // The same file as at logEnd, and not truncated since: resume there. Any other file is all new.
    if (start && start.ino !== 0 && start.dev === dev && start.ino === ino && size >= start.offset) {
      const watcher = tryWatch(path, wakeups.wake)
      return new Tail({file, dev, ino, pos: start.offset, watcher, maxLineBytes})
    }

    return new Tail({file, dev, ino, pos: 0, watcher: tryWatch(path, wakeups.wake), maxLineBytes})
  }

  let current: Tail | undefined
  let previous: Tail | undefined // the file before the last rotation
  let dirWatcher: FSWatcher | undefined
  const timer = setInterval(wakeups.wake, safetyPollMs)
  try {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a wake-up carries nothing but itself
    for await (const _ of wakeups) {
      // Renames and creates show up only on the directory; retried until the directory exists.
      dirWatcher ??= tryWatch(dirname(path), (event, file) => {
        if (event === 'rename' || file === name || !file) wakeups.wake()
      })

      if (previous) yield* previous.drain(buffer, signal)

      const now = await stat(path).catch((error) => {
        if (isMissing(error)) return undefined // renamed or deleted: keep reading the file we have
        throw error
      })
      if (now && !current?.is(now)) {
        // A new file at the path. Finish the old one first; writers may still append to it.
        if (current) yield* current.drain(buffer, signal)
        await previous?.close()
        previous = current
        current = await openTail()
      }

      if (current) yield* current.drain(buffer, signal)
    }
  } finally {
    clearInterval(timer)
    wakeups.stop()
    dirWatcher?.close()
    await Promise.allSettled([previous?.close(), current?.close()])
  }
}

/**
 * Change events for the follower, coalesced: one pass per wake-up however many events came in the
 * meantime, and none lost (an event that arrives while the follower reads, or while its consumer
 * holds a line, makes the next pass). The first pass is at once; the iteration ends when `signal` aborts.
 */
function changes(signal: AbortSignal): AsyncIterable<void> & {stop(): void; wake(): void} {
  let pending = true
  let waiter: (() => void) | undefined
  const wake = () => {
    pending = true
    waiter?.()
  }

  const next = async (): Promise<IteratorResult<void, undefined>> => {
    if (!pending && !signal.aborted)
      await new Promise<void>((resolve) => {
        waiter = resolve
      })
    waiter = undefined
    pending = false
    return signal.aborted ? {done: true, value: undefined} : {done: false, value: undefined}
  }

  signal.addEventListener('abort', wake)
  return {
    wake,
    stop: () => signal.removeEventListener('abort', wake),
    [Symbol.asyncIterator]: () => ({next}),
  }
}
