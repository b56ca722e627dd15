/* eslint-disable camelcase -- Puma's own /stats keys, as it sends them */
import {strict as assert} from 'node:assert'
import {createServer, type Server} from 'node:http'
import {type AddressInfo} from 'node:net'

import stats from '../../src/commands/stats.js'
import {fakeContext, flagsOf} from '../helpers/command-context.js'

/**
 * What real Puma 8.0.2 answered to /stats (captured here with `workers 2`), with its workers in the
 * order Puma lists them after worker 0 was respawned: not by index.
 */
const PUMA_8_STATS = {
  started_at: '2026-11-29T16:04:26Z',
  workers: 2,
  phase: 0,
  booted_workers: 2,
  old_workers: 0,
  worker_status: [1, 0].map((index) => ({
    started_at: '2026-11-29T16:04:26Z',
    pid: 21_961 + index,
    index,
    phase: 0,
    booted: true,
    last_checkin: '2026-11-29T16:04:26Z',
    last_status: {
      backlog: 0,
      running: 0,
      pool_capacity: 5,
      busy_threads: 0,
      io_threads: 0,
      backlog_max: 0,
      max_threads: 5,
      requests_count: 0,
      reactor_max: 0,
    },
  })),
  versions: {puma: '8.0.2', ruby: {engine: 'ruby', version: '3.1.2', patchlevel: 20}},
}

/** Answers /stats with `body` when the token is right, as Puma's control app does. */
async function controlApp(body: unknown): Promise<{server: Server; url: string}> {
  const server = createServer((request, response) => {
    const ok = request.url === '/stats?token=tk'
    response.writeHead(ok ? 200 : 403, {'Content-Type': 'application/json'})
    response.end(ok ? JSON.stringify(body) : '{"error":"Invalid auth token"}')
  })
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve)
  })
  return {server, url: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`}
}

describe('stats (in-process): what Puma 8 answers', () => {
  let app: {server: Server; url: string}

  before(async () => {
    app = await controlApp(PUMA_8_STATS)
  })

  after(() => app.server.close())

  const run = (json: boolean) => {
    const {context, logged} = fakeContext({json})
    const flags = flagsOf(stats, ['--control-url', app.url, '--control-token', 'tk', ...(json ? ['--json'] : [])])
    return {logged, result: stats.run(flags, context)}
  }

  it("--json: Puma's answer passes through under Puma's own names (versions, busy_threads, backlog_max, …)", async () => {
    const report = await run(true).result
    assert.deepEqual(report.puma, PUMA_8_STATS)
    assert.equal(report.puma.versions?.puma, '8.0.2')
    // ctl's own reading stays as it was.
    assert.equal(report.bootedWorkers, 2)
    assert.deepEqual(
      report.workerStatus.map((w) => w.index),
      [1, 0],
      "ctl's reading keeps Puma's order",
    )
    assert.ok(!JSON.stringify(report).includes('tk'), 'the token is not in the result')
  })

  it('the table lists workers by index', async () => {
    const {logged, result} = run(false)
    await result
    const rows = logged[0].split('\n').slice(3)
    assert.deepEqual(
      rows.map((row) => row.split(/\s+/).slice(0, 2)),
      [
        ['0', '21961'],
        ['1', '21962'],
      ],
    )
  })
})
