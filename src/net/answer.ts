/**
 * The most ctl reads of any remote answer (the control server's, a health check's). Puma's /stats
 * for a hundred workers is some tens of KiB; more than this is not Puma, or something broken, and
 * is not worth the memory.
 */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024

/** MAX_ANSWER_BYTES for messages. */
export const MAX_ANSWER_TEXT = `${MAX_ANSWER_BYTES / 1024 / 1024} MiB`

/**
 * A remote answer's bytes as they arrive, never more than `max`: add() returns false once the
 * answer is larger, and the caller stops reading (destroys the socket) and says so.
 */
export class AnswerBytes {
  readonly #chunks: Buffer[] = []
  readonly #max: number
  #size = 0

  constructor(max = MAX_ANSWER_BYTES) {
    this.#max = max
  }

  /** Keeps `chunk`; false (and nothing kept) when the answer would then be larger than the cap. */
  add(chunk: Buffer): boolean {
    this.#size += chunk.length
    if (this.#size > this.#max) {
      this.#chunks.length = 0
      return false
    }

    this.#chunks.push(chunk)
    return true
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8')
  }
}
