import {constants} from 'node:fs'
import {type FileHandle, open} from 'node:fs/promises'

/** Why a path is not a small regular file, as the error's code: callers turn it into their own message. */
export class NotSmallRegularFile extends Error {
  constructor(
    readonly code: 'EFBIG' | 'EISDIR' | 'ENOTREG',
    /** The file's size, for EFBIG. */
    readonly size = 0,
  ) {
    super(code)
  }
}

/**
 * The bytes of a regular file of at most `maxBytes`, read through one handle. A FIFO would wait for a
 * writer (O_NONBLOCK opens it at once, and it is refused), /dev/zero never ends, and a huge file is not
 * what was meant: refused with NotSmallRegularFile, unread. open(2)'s own errors (ENOENT, EACCES) pass
 * through. /proc's files say size 0: at most maxBytes + 1 bytes are read, more is EFBIG.
 */
export async function readSmallRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  // eslint-disable-next-line no-bitwise -- open(2)'s flags are a bit set
  const file: FileHandle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    const stats = await file.stat()
    if (stats.isDirectory()) throw new NotSmallRegularFile('EISDIR')
    if (!stats.isFile()) throw new NotSmallRegularFile('ENOTREG')
    if (stats.size > maxBytes) throw new NotSmallRegularFile('EFBIG', stats.size)
    const buffer = Buffer.alloc(maxBytes + 1)
    const {bytesRead} = await file.read(buffer, 0, maxBytes + 1, 0)
    if (bytesRead > maxBytes) throw new NotSmallRegularFile('EFBIG', bytesRead)
    return buffer.subarray(0, bytesRead)
  } finally {
    await file.close()
  }
}
