import {setImmediate as turn} from 'node:timers/promises'

import {type Cancel, type Clock} from '../../src/wait/clock.js'

interface Timer {
  at: number
  callback: () => void
  seq: number
}

/** Lets every promise chain that is ready run: a whole event-loop turn, no waiting. */
export async function settle(): Promise<void> {
  await turn()
}

/**
 * A clock that moves only when a test advances it: timers fire in time order, and the code they
 * wake runs (to its next real wait) before the next one fires. No real time passes.
 */
export class FakeClock implements Clock {
  private seq = 0
  private time: number
  private timers: Timer[] = []

  constructor(start = 1_000_000) {
    this.time = start
  }

  /** The timers still set. */
  get pending(): number {
    return this.timers.length
  }

  /** Moves the time on by `ms`, firing the timers due on the way. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.time + ms)
  }

  async advanceTo(end: number): Promise<void> {
    await settle()
    for (let next = this.due(end); next; next = this.due(end)) {
      this.time = Math.max(this.time, next.at)
      this.timers = this.timers.filter((timer) => timer !== next)
      next.callback()
      // eslint-disable-next-line no-await-in-loop -- what a timer woke runs before the next one fires
      await settle()
    }

    this.time = Math.max(this.time, end)
    await settle()
  }

  now(): number {
    return this.time
  }

  setTimeout(callback: () => void, ms: number): Cancel {
    const timer = {at: this.time + Math.max(0, ms), callback, seq: this.seq++}
    this.timers.push(timer)
    return () => {
      this.timers = this.timers.filter((other) => other !== timer)
    }
  }

  private due(end: number): Timer | undefined {
    const due = this.timers.filter((timer) => timer.at <= end)
    return due.sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
  }
}
