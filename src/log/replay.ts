import {type LogPosition} from './follow.js'
import {readLogWindow} from './window.js'

/**
 * The complete lines a log got after `from`, read once, up to `maxBytes` (a bounded look, never the
 * whole of a huge log): from the start when the file at `path` is not the one `from` was taken
 * of (rotated) or is shorter (truncated), as the follower reads it. Nothing when the file is gone.
 */
export async function linesSince(path: string, from: LogPosition, maxBytes: number): Promise<string[]> {
  const window = await readLogWindow(path, ({dev, ino, size}) => {
    const same = from.ino !== 0 && from.dev === dev && from.ino === ino && size >= from.offset
    const start = same ? from.offset : 0
    return {start, length: Math.min(size - start, maxBytes)}
  })
  if (!window || window.bytes.length === 0) return []
  const lines = window.bytes.toString('utf8').split('\n')
  lines.pop() // the last line may be unfinished (or is the empty rest after the final newline)
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
}
