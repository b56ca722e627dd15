import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {type ProcessEntry} from '../../src/target/process-table.js'
import {findMasters} from '../../src/target/scan.js'
import {isUntitledPumaCommand, parseMasterTitle, parseWorkerTitle} from '../../src/target/titles.js'
import {fixturesDir} from '../helpers/paths.js'

const table = (name: string): ProcessEntry[] => JSON.parse(readFileSync(join(fixturesDir, 'processes', name), 'utf8'))
const CTL_PID = 4242 // the ctl process in every recorded table

describe('process scan over recorded process tables', () => {
  const cases: Array<
    [string, Array<{pid: number; tag?: string; version?: string; workers: Array<[number, number | undefined]>}>]
  > = [
    [
      'puma-5.6-cluster.json',
      [
        {
          pid: 7013,
          version: '5.6.5',
          tag: 'app',
          workers: [
            [7018, 0],
            [7019, 1],
          ],
        },
      ],
    ],
    [
      'puma-2.7-untitled.json',
      [
        {
          pid: 500,
          version: undefined,
          tag: undefined,
          workers: [
            [510, undefined],
            [511, undefined],
          ],
        },
      ],
    ],
    ['puma-2.x-single-untitled.json', [{pid: 600, version: undefined, tag: undefined, workers: []}]],
    [
      'two-masters.json',
      [
        {pid: 7013, version: '5.6.5', tag: 'app', workers: [[7018, 0]]},
        {
          pid: 8100,
          version: '8.0.2',
          tag: '20261123',
          workers: [
            [8101, 0],
            [8102, 1],
          ],
        },
      ],
    ],
    // fork_worker: workers 1.. are children of worker 0, but their titles name the master
    [
      'fork-worker.json',
      [
        {
          pid: 9000,
          version: '6.4.2',
          tag: 'shop',
          workers: [
            [9001, 0],
            [9002, 1],
            [9003, 2],
          ],
        },
      ],
    ],
    // workers whose master died name a PID since reused by an unrelated process: not a master
    ['orphan-workers.json', []],
    [
      'single-mode-no-tag.json',
      [
        {pid: 9700, version: '4.3.12', tag: undefined, workers: []},
        {pid: 9710, version: undefined, tag: undefined, workers: []}, // puma-wild during prune_bundler's re-exec
      ],
    ],
  ]

  for (const [name, expected] of cases) {
    it(`${name}: ${expected.map((m) => m.pid).join(', ') || 'no master'}`, () => {
      const masters = findMasters(table(name), CTL_PID)
      assert.deepEqual(
        masters.map((m) => ({
          pid: m.pid,
          version: m.version,
          tag: m.tag,
          workers: m.workers.map((w) => [w.pid, w.index]),
        })),
        expected,
      )
    })
  }

  it('never matches ctl itself, grep, tail, an editor, a shell pipeline or an argument that mentions puma', () => {
    const noise = table('puma-5.6-cluster.json').filter((entry) => entry.pid >= 4242 && entry.pid < 4400)
    assert.equal(noise.length, 8)
    assert.deepEqual(findMasters(noise, -1), [])
  })

  it('reads binds and tag from the master title', () => {
    assert.deepEqual(parseMasterTitle('puma 8.0.2 (unix:///srv/other/tmp/puma.sock,tcp://0.0.0.0:3000) [20261123]'), {
      version: '8.0.2',
      binds: ['unix:///srv/other/tmp/puma.sock', 'tcp://0.0.0.0:3000'],
      tag: '20261123',
    })
    assert.deepEqual(parseMasterTitle('puma 5.0.0.beta1 () '), {version: '5.0.0.beta1', binds: [], tag: undefined})
    // 8.0 binds to IPv6 by default: brackets inside the binds are not the tag's
    assert.deepEqual(parseMasterTitle('puma 8.0.2 (tcp://[::]:9292) [app]'), {
      version: '8.0.2',
      binds: ['tcp://[::]:9292'],
      tag: 'app',
    })
    assert.equal(parseMasterTitle('puma: cluster worker 0: 12 [x]'), undefined)
    assert.equal(parseMasterTitle('vim puma 5.6.5 (x)'), undefined)
  })

  it('reads worker titles of every era', () => {
    assert.deepEqual(parseWorkerTitle('puma: cluster worker 3: 7013 [app]'), {index: 3, masterPid: 7013, tag: 'app'})
    assert.deepEqual(parseWorkerTitle('puma: cluster worker 0: 7013'), {index: 0, masterPid: 7013, tag: undefined})
    assert.deepEqual(parseWorkerTitle('puma: cluster worker: 500'), {index: undefined, masterPid: 500, tag: undefined})
    assert.equal(parseWorkerTitle('grep puma: cluster worker 0: 1'), undefined)
  })

  const untitled: Array<[string[], boolean]> = [
    [['ruby', '/usr/local/bin/puma', '-C', 'config/puma.rb'], true],
    [['/usr/bin/ruby3.1', '-I', 'lib', '/srv/app/bin/puma'], true],
    [['/srv/app/bin/puma', '-p', '3000'], true],
    [['ruby', '/gems/puma-2.16.0/bin/puma-wild', '-I', 'x'], true],
    [['ruby', '-e', 'puts "puma"'], false],
    [['ruby', '/usr/bin/bundle', 'exec', 'puma'], false],
    [['node', '/usr/local/bin/ctl', 'restart'], false],
    [['grep', 'puma'], false],
    [['pumactl', 'status'], false],
    [[], false],
  ]
  for (const [argv, expected] of untitled) {
    it(`${expected ? 'recognises' : 'rejects'} an untitled ${JSON.stringify(argv.join(' '))}`, () =>
      assert.equal(isUntitledPumaCommand(argv), expected))
  }
})
