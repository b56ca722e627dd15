import {open} from 'node:fs/promises'

/** What a window read saw: the bytes, where they begin, and which file (device, inode) they came from. */
export interface LogWindow {
  bytes: Buffer
  dev: number
  ino: number
  start: number
}

/** The start and length of the window to read, from the file's identity and size when opened. */
export type WindowPlace = (file: {dev: number; ino: number; size: number}) => {length: number; start: number}

/** The last `maxBytes` of a log: never the whole of a huge one. */
export const tail =
  (maxBytes: number): WindowPlace =>
  ({size}) => ({start: Math.max(0, size - maxBytes), length: Math.min(size, maxBytes)})

/**
 * One bounded read of a log, opened once (its stat and its bytes from the same file, however it
 * is renamed or rotated meanwhile). Undefined when the file cannot be opened; a read error throws.
 */
export async function readLogWindow(path: string, place: WindowPlace): Promise<LogWindow | undefined> {
  let file
  try {
    file = await open(path, 'r')
  } catch {
    return undefined
  }

  try {
    const {dev, ino, size} = await file.stat()
    const {length, start} = place({dev, ino, size})
    const buffer = Buffer.alloc(Math.max(0, length))
    const {bytesRead} = await file.read(buffer, 0, buffer.length, start)
    return {bytes: buffer.subarray(0, bytesRead), dev, ino, start}
  } finally {
    await file.close()
  }
}
