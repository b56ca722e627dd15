import {strict as assert} from 'node:assert'

import {type RestartEvent, updatesWorthTelling} from '../../src/restart/api.js'
import {fromMaster, NEW_PID, replaced, RestartWorld} from '../helpers/restart-world.js'

/** What an app writes to the same log: one access line per request. */
const appOutput = (n: number) =>
  Array.from({length: n}, (_, i) => `[${NEW_PID + (i % 2)}] 127.0.0.1 - - "GET /up HTTP/1.1" 200 - 0.0004`)

describe("the API's events during a whole restart", () => {
  let world: RestartWorld

  afterEach(() => world.cleanUp())

  it('one update per change of progress or notice, however much the app logs', async () => {
    world = new RestartWorld({workers: 2})
    const events: RestartEvent[] = []
    const tell = updatesWorthTelling((event) => events.push(event))
    let steps = 0
    const run = world.run({
      onUpdate(state) {
        steps++
        tell(state)
      },
    })
    await world.sent
    await world.write(...appOutput(500), ...fromMaster('- Starting phased worker restart, phase: 1'), ...appOutput(500))
    await world.write(...replaced(0), ...appOutput(500), ...replaced(1), ...appOutput(500))
    assert.equal(run.report().outcome, 'done')
    const updates = events.filter((event) => event.type === 'update')
    assert.deepEqual(
      updates.map(({progress, notices}) => [progress.label, notices.map((notice) => notice.kind).join(',')]),
      [
        ['waiting for Puma to start the phased restart', ''],
        ['phase 1: 0/2 workers booted', 'restart-started'],
        ['phase 1: 1/2 workers booted', 'worker-booted'],
        [run.report().summary, 'worker-booted'],
      ],
    )
    assert.match(updates.at(-1)!.progress.label, /^Phased restart finished in [\d.]+ s: phase 1, 2\/2 workers booted$/)
    assert.equal(updates.at(-1)?.progress.status, 'finished')
    assert.ok(steps > 1500, `every line up to the outcome was a step of the machine (${steps})`)
  })
})
