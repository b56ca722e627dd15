import {strict as assert} from 'node:assert'

import {Cadence} from '../../src/wait/cadence.js'

describe('Cadence (how often a source that can only be asked is asked)', () => {
  it('grows from the fastest pause to the slowest while nothing happens, and starts over after a change', () => {
    const cadence = new Cadence(100, 1000)
    const quiet = Array.from({length: 8}, () => cadence.next())
    assert.deepEqual(quiet, [100, 150, 225, 338, 507, 761, 1000, 1000])
    cadence.quicken()
    assert.equal(cadence.next(), 100)
  })

  it('asks 13 times in a quiet 10 s where a fixed 100 ms pause asked 100 times', () => {
    const cadence = new Cadence(100, 1000)
    let elapsed = cadence.next()
    let looks = 0
    while (elapsed <= 10_000) {
      looks++
      elapsed += cadence.next()
    }

    assert.equal(looks, 13)
  })
})
