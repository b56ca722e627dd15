import {type Cancel, type Clock, realClock} from './clock.js'

/** What `wakingAt` yields when the time its consumer asked for has come. */
export const WAKE: unique symbol = Symbol('wake')
export type Wake = typeof WAKE

/**
 * Items pushed by any number of producers, read in arrival order by one consumer at a time,
 * without polling: a read waits for the next push. `close()` ends the reading once the items
 * already queued have been read; later pushes are dropped.
 */
export class Inbox<T> implements AsyncIterable<T> {
  private closed = false
  private readonly queue: Array<T | Wake> = []
  private timer: undefined | {at: number; cancel: Cancel}
  private waiter: ((item: T | undefined | Wake) => void) | undefined

  constructor(private readonly clock: Clock = realClock) {}

  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.queue.length === 0) this.hand(undefined)
  }

  push(item: T): void {
    if (!this.closed) this.hand(item)
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.reader(() => undefined) as AsyncIterator<T>
  }

  /**
   * Reads the items, and WAKE once the clock reaches `wakeAt()` (asked before each wait; undefined:
   * no wake). The timer is set again only when that time changes, or after it has fired.
   */
  wakingAt(wakeAt: () => number | undefined): AsyncIterable<T | Wake> {
    return {[Symbol.asyncIterator]: () => this.reader(wakeAt)}
  }

  private arm(at: number | undefined): void {
    if (this.timer?.at === at) return
    this.disarm()
    if (at === undefined) return
    // +1: a timer may fire a millisecond before the clock says its time has come.
    const cancel = this.clock.setTimeout(
      () => {
        this.timer = undefined
        this.hand(WAKE)
      },
      Math.max(0, at - this.clock.now()) + 1,
    )
    this.timer = {at, cancel}
  }

  private disarm(): void {
    this.timer?.cancel()
    this.timer = undefined
  }

  /** To the waiting reader, else to the queue. */
  private hand(item: T | undefined | Wake): void {
    const {waiter} = this
    if (waiter) {
      this.waiter = undefined
      waiter(item)
    } else if (item !== undefined) {
      this.queue.push(item)
    }
  }

  private reader(wakeAt: () => number | undefined): AsyncIterator<T | Wake> {
    const done = (): IteratorResult<T | Wake> => {
      this.disarm()
      return {done: true, value: undefined}
    }

    return {
      next: async () => {
        if (this.queue.length > 0) return {done: false, value: this.queue.shift()!}
        if (this.closed) return done()
        this.arm(wakeAt())
        const item = await new Promise<T | undefined | Wake>((resolve) => {
          this.waiter = resolve
        })
        return item === undefined ? done() : {done: false, value: item}
      },
      async return() {
        return done()
      },
    }
  }
}
