import {strict as assert} from 'node:assert'

import {waitForExit} from '../../src/target/liveness.js'
import {realClock} from '../../src/wait/clock.js'
import {Inbox, WAKE} from '../../src/wait/inbox.js'
import {type PollResult, pollUntil} from '../../src/wait/poll.js'
import {FakeClock, settle} from '../helpers/fake-clock.js'

/** Starts `pollUntil` and records the clock's time at every look. */
function polling<T>(clock: FakeClock, answers: Array<T | undefined>, options: Parameters<typeof pollUntil>[1]) {
  const looks: number[] = []
  let result: PollResult<T> | undefined
  let error: unknown
  const done = pollUntil(
    () => {
      looks.push(clock.now())
      if (looks.length > answers.length) throw new Error('looked too often')
      return answers[looks.length - 1]
    },
    {clock, ...options},
  ).then(
    (value) => {
      result = value
    },
    (error_: unknown) => {
      error = error_
    },
  )
  return {done, looks, result: () => result, error: () => error}
}

describe('waiting on a clock the test moves', () => {
  describe('pollUntil: one look at a time', () => {
    it('looks at once, pauses intervalMs after each look that found nothing, ends with the first answer', async () => {
      const clock = new FakeClock(0)
      const poll = polling(clock, [undefined, undefined, 'found'], {intervalMs: 100})
      await clock.advance(250)
      assert.deepEqual(poll.looks, [0, 100, 200])
      await poll.done
      assert.deepEqual(poll.result(), {status: 'done', value: 'found'})
      assert.equal(clock.pending, 0, 'no timer left behind')
    })

    it("start: 'pause' pauses before the first look", async () => {
      const clock = new FakeClock(0)
      const poll = polling(clock, [undefined, true], {intervalMs: 250, start: 'pause'})
      await settle()
      assert.deepEqual(poll.looks, [])
      await clock.advance(500)
      assert.deepEqual(poll.looks, [250, 500])
      assert.deepEqual(poll.result(), {status: 'done', value: true})
    })

    it("a look that ends at or after the deadline without an answer ends in 'timed-out'; the last pause ends at the deadline", async () => {
      const clock = new FakeClock(0)
      const poll = polling(clock, Array.from({length: 10}), {intervalMs: 100, deadline: 250})
      await clock.advance(1000)
      // Not a verdict a whole pause late: the look at 250 is the last one.
      assert.deepEqual(poll.looks, [0, 100, 200, 250])
      assert.deepEqual(poll.result(), {status: 'timed-out'})
    })

    it('a growing interval is cut short at the deadline too', async () => {
      const clock = new FakeClock(0)
      const pauses = [100, 200, 400, 800]
      const poll = polling(clock, Array.from({length: 10}), {
        intervalMs: () => pauses.shift()!,
        deadline: 500,
      })
      await clock.advance(1000)
      assert.deepEqual(poll.looks, [0, 100, 300, 500])
      assert.deepEqual(poll.result(), {status: 'timed-out'})
    })

    it('an aborted signal: no look at all, unless lookOnceIfAborted', async () => {
      const clock = new FakeClock(0)
      const aborted = AbortSignal.abort()
      const none = polling(clock, [undefined], {intervalMs: 100, signal: aborted})
      const once = polling(clock, [undefined], {intervalMs: 100, signal: aborted, lookOnceIfAborted: true})
      await Promise.all([none.done, once.done])
      assert.deepEqual(none.looks, [])
      assert.deepEqual(none.result(), {status: 'aborted'})
      assert.deepEqual(once.looks, [0])
      assert.deepEqual(once.result(), {status: 'aborted'})
    })

    it('aborting during a pause ends it at once, without another look', async () => {
      const clock = new FakeClock(0)
      const controller = new AbortController()
      const poll = polling(clock, [undefined, undefined], {intervalMs: 100, signal: controller.signal})
      await clock.advance(50)
      controller.abort()
      await poll.done
      assert.deepEqual(poll.looks, [0])
      assert.deepEqual(poll.result(), {status: 'aborted'})
      assert.equal(clock.pending, 0, 'the pause was cancelled')
    })

    it('an async look: the pause starts once it has settled; its rejection ends the polling', async () => {
      const clock = new FakeClock(0)
      const looks: number[] = []
      const polled = pollUntil(
        async (attempt) => {
          looks.push(clock.now())
          if (attempt === 3) throw new Error('refused')
          return undefined
        },
        {clock, intervalMs: 100},
      )
      const outcome = polled.then(
        () => 'resolved',
        (error: Error) => error.message,
      )
      await clock.advance(250)
      assert.deepEqual(looks, [0, 100, 200])
      assert.equal(await outcome, 'refused')
      assert.equal(clock.pending, 0)
    })

    it('a look that throws ends the polling with its error', async () => {
      const clock = new FakeClock(0)
      const poll = polling(clock, [undefined], {intervalMs: 100})
      await clock.advance(100)
      await poll.done
      assert.equal((poll.error() as Error).message, 'looked too often')
    })
  })

  describe('waitForExit on a fake clock', () => {
    it('a process that never exits: looks every 50 ms, once more at the deadline, then false', async () => {
      const clock = new FakeClock(0)
      let exited: boolean | undefined
      const waiting = waitForExit(process.pid, {clock, timeoutMs: 120}).then((value) => {
        exited = value
      })
      await clock.advance(119)
      assert.equal(exited, undefined, 'still waiting before the deadline')
      await clock.advance(1)
      await waiting
      assert.equal(exited, false)
    })

    it('an aborted signal still gets one look: true for a process already gone', async () => {
      const clock = new FakeClock(0)
      assert.equal(await waitForExit(2 ** 22 + 1, {clock, timeoutMs: 1000, signal: AbortSignal.abort()}), true)
    })

    it('given the start time ctl verified, a PID now naming another process has exited at the first look', async () => {
      const clock = new FakeClock(0)
      // this process runs, but did not start at tick 1: the master verified then is gone, its PID reused
      assert.equal(await waitForExit(process.pid, {clock, identity: 1, timeoutMs: 1000}), true)
      assert.equal(clock.now(), 0)
    })
  })

  describe('Inbox: pushed items in order, plus a wake at the time the reader asks for', () => {
    it('hands items over in arrival order and ends after close() once the queue is read', async () => {
      const inbox = new Inbox<number>(new FakeClock())
      for (const item of [1, 2]) inbox.push(item)
      const read: number[] = []
      const reading = (async () => {
        for await (const item of inbox) read.push(item)
      })()
      await settle()
      inbox.push(3)
      inbox.close()
      inbox.push(4) // dropped: closed
      await reading
      assert.deepEqual(read, [1, 2, 3])
    })

    it('wakes at the time asked for, re-arming only when that time changes', async () => {
      const clock = new FakeClock(0)
      const inbox = new Inbox<string>(clock)
      let wakeAt: number | undefined = 1000
      const read: Array<[number, string]> = []
      const reading = (async () => {
        for await (const item of inbox.wakingAt(() => wakeAt)) {
          read.push([clock.now(), item === WAKE ? 'wake' : item])
          if (item === 'sooner') wakeAt = 300
          if (item === WAKE && wakeAt === 300) wakeAt = undefined
        }
      })()
      await clock.advance(100)
      inbox.push('line')
      await clock.advance(100)
      assert.equal(clock.pending, 1, 'one timer, kept across items')
      inbox.push('sooner')
      await clock.advance(1000)
      assert.equal(clock.pending, 0, 'no wake asked for')
      inbox.close()
      await reading
      // +1: a timer may fire a millisecond early on a real clock.
      assert.deepEqual(read, [
        [100, 'line'],
        [200, 'sooner'],
        [301, 'wake'],
      ])
    })

    it('a wake that could not be handed over waits in the queue, behind earlier items', async () => {
      const clock = new FakeClock(0)
      const inbox = new Inbox<string>(clock)
      const iterator = inbox.wakingAt(() => 10)[Symbol.asyncIterator]()
      const first = iterator.next() // waiting: the wake is armed for 10
      inbox.push('first')
      assert.deepEqual(await first, {done: false, value: 'first'})
      // Nobody reads when the wake comes: it queues behind 'second', pushed before it.
      inbox.push('second')
      await clock.advance(11)
      assert.deepEqual(await iterator.next(), {done: false, value: 'second'})
      assert.deepEqual(await iterator.next(), {done: false, value: WAKE})
      await iterator.return!()
      assert.equal(clock.pending, 0)
    })
  })

  describe('the real clock', () => {
    it('a timer longer than Node can hold (a huge --timeout) neither fires at once nor warns', async () => {
      const warnings: Error[] = []
      const onWarning = (warning: Error) => warnings.push(warning)
      process.on('warning', onWarning)
      let fired = false
      const cancel = realClock.setTimeout(() => {
        fired = true
      }, 2 ** 40)
      try {
        // An overflowing timer fires after 1 ms and warns on the next tick: give both a chance.
        await new Promise((resolve) => {
          setTimeout(resolve, 20)
        })
        assert.equal(fired, false)
        assert.deepEqual(warnings, [])
      } finally {
        cancel()
        process.off('warning', onWarning)
      }
    })
  })
})
