import {strict as assert} from 'node:assert'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import type {LogEvent} from '../../src/log/events.js'

import {parseLine, splitPrefix} from '../../src/log/parse.js'
import {fixturesDir} from '../helpers/paths.js'

const logsDir = join(fixturesDir, 'logs')

function readLines(name: string): string[] {
  const lines = readFileSync(join(logsDir, name), 'utf8').split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines
}

/** "PREFIXPID kind field=value ...", in the event's own field order; "-" when there is no prefix. */
function summarize(event: LogEvent): string {
  const {kind, prefixPid, ...fields} = event
  const shown = Object.entries(fields).filter(([k]) => k !== 'line')
  return [prefixPid ?? '-', kind, ...shown.map(([k, v]) => `${k}=${v}`)].join(' ')
}

/** The fixture's events, leaving out `other` (a misparsed `other` line still shows up as an extra event). */
function events(name: string): string[] {
  return readLines(name)
    .map((line) => parseLine(line))
    .filter((e) => e.kind !== 'other')
    .map((e) => summarize(e))
}

/**
 * Fixture -> its exact event sequence, grouped by dialect family. See test/fixtures/logs/README.md
 * for which logs are real captures and which are rebuilt from docs/puma-facts.md.
 */
const FAMILIES: Array<{family: string; fixtures: Record<string, string[]>}> = [
  {
    family: '2.0–2.7: boot line names the worker PID, no index',
    fixtures: {
      'puma-2.7-phased.log': [
        '38009 banner-start mode=cluster',
        '38009 banner-version version=2.7.1',
        '38009 banner-workers workers=2',
        '38009 banner-restarts phased=true',
        '38009 listening address=tcp://127.0.0.1:19501',
        '38009 ready',
        '38009 worker-booted workerPid=38016 phase=0',
        '38009 worker-booted workerPid=38017 phase=0',
        '38009 phase-start phase=1 refork=false',
        '38009 worker-stopping workerPid=38016',
        '38009 worker-booted workerPid=38102 phase=1',
        '38009 worker-stopping workerPid=38017',
        '38009 worker-booted workerPid=38110 phase=1',
        '38009 shutdown',
        '38009 shutdown',
      ],
      'puma-2.2-preload-usr1-ignored.log': [
        '3101 banner-start mode=cluster',
        '3101 banner-workers workers=2',
        '3101 preloading',
        '3101 listening address=tcp://127.0.0.1:19501',
        '3101 ready',
        '3101 worker-booted workerPid=3105 phase=0',
        '3101 worker-booted workerPid=3106 phase=0',
        '3101 phased-fallback',
        '3101 shutdown',
        '3101 shutdown',
      ],
      'puma-2.1-single.log': [
        '- banner-start mode=single',
        '- listening address=tcp://0.0.0.0:9292',
        '- ready',
        '- shutdown',
        '- shutdown',
      ],
      'puma-2.1-single-load-error.log': [
        '- banner-start mode=single',
        '- app-load-error message=',
        "- ruby-exception message=config.ru:3:in `block in <main>': boom: simulated boot failure (RuntimeError)",
      ],
    },
  },
  {
    family: '2.8–5.0.x: "Worker I (pid: X) booted, phase: P"; "! Terminating timed out worker: PID"',
    fixtures: {
      'puma-2.16-phased.log': [
        '3040 banner-start mode=cluster',
        '3040 banner-version version=2.16.0',
        '3040 banner-workers workers=2',
        '3040 banner-restarts phased=true',
        '3040 listening address=tcp://127.0.0.1:19501',
        '3040 ready',
        '3040 worker-booted index=0 workerPid=3043 phase=0',
        '3040 worker-booted index=1 workerPid=3044 phase=0',
        '3040 phase-start phase=1 refork=false',
        '3040 worker-stopping workerPid=3043',
        '3040 worker-booted index=0 workerPid=3061 phase=1',
        '3040 worker-stopping workerPid=3044',
        '3040 worker-booted index=1 workerPid=3068 phase=1',
        '3040 worker-timed-out workerPid=3068 during=unknown',
        '3040 worker-booted index=1 workerPid=3075 phase=1',
        '3040 shutdown',
        '3040 shutdown',
        '3040 shutdown',
      ],
      // ≤4.1: a failing worker only writes Ruby's exception to stderr, unprefixed
      'puma-2.16-phased-boot-failure-stderr.log': [
        '3040 phase-start phase=1 refork=false',
        '3040 worker-stopping workerPid=3043',
        "- ruby-exception message=config.ru:3:in `block in <main>': boom: simulated boot failure (RuntimeError)",
        "- ruby-exception message=config.ru:3:in `block in <main>': boom: simulated boot failure (RuntimeError)",
        '3040 worker-booted index=0 workerPid=3201 phase=1',
      ],
      'puma-3.12-phased-drain-kill.log': [
        '2200 banner-start mode=cluster',
        '2200 banner-version version=3.12.6',
        '2200 banner-workers workers=2',
        '2200 banner-restarts phased=true',
        '2200 listening address=tcp://127.0.0.1:19502',
        '2200 ready',
        '2200 worker-booted index=0 workerPid=2203 phase=0',
        '2200 worker-booted index=1 workerPid=2204 phase=0',
        '2200 phase-start phase=1 refork=false',
        '2200 worker-stopping workerPid=2203',
        '2200 worker-booted index=0 workerPid=2290 phase=1',
        '2200 worker-stopping workerPid=2204',
        '2200 worker-booted index=1 workerPid=2297 phase=1',
        '2200 worker-terminating index=1 workerPid=2297',
        '2200 shutdown',
      ],
      'puma-3.4-seppuku.log': [
        '2600 worker-booted index=0 workerPid=2603 phase=0',
        '2600 fatal message=Seppuku is the only choice.',
      ],
      // 4.2–5.3.1: the failing worker's only line is "Early termination of worker", with its own PID
      'puma-4.3-phased-silent-failure.log': [
        '1888 banner-start mode=cluster',
        '1888 banner-version version=4.3.12',
        '1888 banner-workers workers=2',
        '1888 banner-restarts phased=true',
        '1888 listening address=tcp://127.0.0.1:19503',
        '1888 ready',
        '1888 worker-booted index=0 workerPid=1890 phase=0',
        '1888 worker-booted index=1 workerPid=1891 phase=0',
        '1888 phase-start phase=1 refork=false',
        '1888 worker-stopping workerPid=1890',
        '1990 worker-early-termination',
        '1888 worker-booted index=0 workerPid=2142 phase=1',
        '1888 worker-stopping workerPid=1891',
        '1888 worker-booted index=1 workerPid=2150 phase=1',
      ],
      'puma-4.3-boot-timeout.log': [
        '1888 phase-start phase=2 refork=false',
        '1888 worker-stopping workerPid=2142',
        '1888 worker-timed-out workerPid=2301 during=unknown',
        '1888 worker-timed-out workerPid=2388 during=unknown',
        '1888 worker-booted index=0 workerPid=2460 phase=2',
      ],
      'puma-4.3-no-app-error.log': [
        '1888 banner-start mode=cluster',
        '1888 banner-version version=4.3.12',
        '1888 banner-workers workers=2',
        '1888 banner-restarts phased=true',
        '1888 fatal message=No application configured, nothing to run',
      ],
      // #1420: "+ Gemfile in context" from ever new PIDs is all there is to see
      'puma-5.0-phased-gemfile-loop.log': [
        '4100 banner-start mode=cluster',
        '4100 banner-version version=5.0.4',
        '4100 banner-workers workers=2',
        '4100 banner-restarts phased=true',
        '4100 listening address=http://0.0.0.0:3000',
        '4100 ready',
        '4104 worker-starting',
        '4106 worker-starting',
        '4100 worker-booted index=0 workerPid=4104 phase=0',
        '4100 worker-booted index=1 workerPid=4106 phase=0',
        '4100 phase-start phase=1 refork=false',
        '4100 worker-stopping workerPid=4104',
        '4230 worker-starting',
        '4231 worker-starting',
        '4232 worker-starting',
        '4232 worker-early-termination',
        '4233 worker-starting',
        '4100 worker-stopping workerPid=4104',
        '4234 worker-starting',
      ],
    },
  },
  {
    family: '5.1–5.2: "(PID: X) booted, phase: P" and the new banner',
    fixtures: {
      'puma-5.2-phased.log': [
        '5200 banner-start mode=cluster',
        '5200 banner-version version=5.2.2',
        '5200 banner-workers workers=2',
        '5200 banner-restarts phased=true',
        '5200 listening address=http://127.0.0.1:19504',
        '5200 ready',
        '5200 worker-booted index=1 workerPid=5206 phase=0',
        '5200 worker-booted index=0 workerPid=5204 phase=0',
        '5200 phase-start phase=1 refork=false',
        '5200 worker-stopping workerPid=5204',
        '5200 worker-timed-out workerPid=5300 during=unknown',
        '5200 worker-booted index=0 workerPid=5311 phase=1',
        '5200 worker-stopping workerPid=5206',
        '5200 worker-booted index=1 workerPid=5318 phase=1',
        '5200 shutdown',
        '5200 shutdown',
        '5200 shutdown',
      ],
    },
  },
  {
    family: '5.3–5.6: "booted in S.SSs" (real Puma 5.6.5 captures)',
    fixtures: {
      'puma-5.6-cluster-banner.log': [
        '8353 banner-start mode=cluster',
        '8353 banner-version version=5.6.5',
        '8353 banner-workers workers=2',
        '8353 banner-restarts phased=true',
        '8353 listening address=http://127.0.0.1:33971',
        '8353 ready',
      ],
      'puma-5.6-phased.log': [
        '8353 worker-booted index=0 workerPid=8357 phase=0 bootSeconds=0.01',
        '8353 worker-booted index=1 workerPid=8359 phase=0 bootSeconds=0.01',
        '8353 phase-start phase=1 refork=false',
        '8353 worker-stopping workerPid=8357',
        '8353 worker-booted index=0 workerPid=8376 phase=1 bootSeconds=0',
        '8353 worker-stopping workerPid=8359',
        '8353 worker-booted index=1 workerPid=8383 phase=1 bootSeconds=0',
        '8353 shutdown',
        '8353 shutdown',
        '8353 shutdown',
      ],
      'puma-5.6-boot-timeout.log': [
        '8662 worker-booted index=0 workerPid=8666 phase=0 bootSeconds=0.01',
        '8662 worker-booted index=1 workerPid=8668 phase=0 bootSeconds=0.01',
        '8662 phase-start phase=1 refork=false',
        '8662 worker-stopping workerPid=8666',
        '8662 worker-timed-out workerPid=8686 during=boot seconds=4',
        '8662 worker-timed-out workerPid=8802 during=boot seconds=4',
        '8662 worker-timed-out workerPid=8936 during=boot seconds=4',
        '8662 worker-booted index=0 workerPid=9058 phase=1 bootSeconds=0.01',
        '8662 worker-stopping workerPid=8668',
        '8662 worker-booted index=1 workerPid=9065 phase=1 bootSeconds=0.01',
        '8662 shutdown',
        '8662 shutdown',
        '8662 shutdown',
      ],
      'puma-5.6-hot-restart.log': [
        '9107 worker-booted index=1 workerPid=9113 phase=0 bootSeconds=0.01',
        '9107 worker-booted index=0 workerPid=9111 phase=0 bootSeconds=0.01',
        '9107 shutdown',
        '9107 hot-restart',
        '9107 banner-start mode=cluster',
        '9107 banner-version version=5.6.5',
        '9107 banner-workers workers=2',
        '9107 banner-restarts phased=true',
        '9107 listening address=tcp://127.0.0.1:43101',
        '9107 ready',
        '9107 worker-booted index=0 workerPid=9142 phase=0 bootSeconds=0.01',
        '9107 worker-booted index=1 workerPid=9144 phase=0 bootSeconds=0.01',
        '9107 shutdown',
        '9107 shutdown',
        '9107 shutdown',
      ],
      'puma-5.6-preload-banner.log': [
        '9174 banner-start mode=cluster',
        '9174 banner-version version=5.6.5',
        '9174 banner-workers workers=2',
        '9174 banner-restarts phased=false',
        '9174 preloading',
        '9174 listening address=http://127.0.0.1:39407',
        '9174 ready',
      ],
      'puma-5.6-preload-fallback.log': [
        '9174 worker-booted index=0 workerPid=9178 phase=0 bootSeconds=0',
        '9174 worker-booted index=1 workerPid=9179 phase=0 bootSeconds=0',
        '9174 phased-fallback',
        '9174 shutdown',
        '9174 hot-restart',
        '9174 banner-start mode=cluster',
        '9174 banner-version version=5.6.5',
        '9174 banner-workers workers=2',
        '9174 banner-restarts phased=false',
        '9174 preloading',
        '9174 listening address=tcp://127.0.0.1:39407',
        '9174 ready',
        '9174 worker-booted index=0 workerPid=9203 phase=0 bootSeconds=0',
        '9174 worker-booted index=1 workerPid=9205 phase=0 bootSeconds=0',
        '9174 shutdown',
        '9174 shutdown',
        '9174 shutdown',
      ],
      // USR2 while the preloaded app raises: the master exits 1
      'puma-5.6-preload-hot-restart-load-error.log': [
        '9433 worker-booted index=0 workerPid=9443 phase=0 bootSeconds=0',
        '9433 worker-booted index=1 workerPid=9445 phase=0 bootSeconds=0',
        '9433 shutdown',
        '9433 hot-restart',
        '9433 banner-start mode=cluster',
        '9433 banner-version version=5.6.5',
        '9433 banner-workers workers=2',
        '9433 banner-restarts phased=false',
        '9433 preloading',
        '9433 app-load-error message=RuntimeError: boom',
        "- ruby-exception message=config.ru:1:in `block in <main>': boom (RuntimeError)",
      ],
      'puma-5.6-ttou-ttin.log': [
        '9234 worker-booted index=1 workerPid=9240 phase=0 bootSeconds=0.01',
        '9234 worker-booted index=0 workerPid=9238 phase=0 bootSeconds=0.01',
        '9234 worker-terminating index=1 workerPid=9240',
        '9234 worker-booted index=1 workerPid=9256 phase=0 bootSeconds=0.01',
        '9234 shutdown',
        '9234 shutdown',
        '9234 shutdown',
      ],
      // HUP writes "=== puma startup" per process and stream: not a restart
      'puma-5.6-reopen-halt.log': [
        '9635 worker-booted index=1 workerPid=9644 phase=0 bootSeconds=0',
        '9635 worker-booted index=0 workerPid=9642 phase=0 bootSeconds=0.01',
        '9635 shutdown',
        '9635 shutdown',
        '9635 shutdown',
      ],
    },
  },
  {
    family: '6.x: full boot-failure backtraces, "(Worker I failed to …)", refork lines',
    fixtures: {
      'puma-6.0-boot-failure.log': [
        '21500 phase-start phase=1 refork=false',
        '21500 worker-stopping workerPid=21510',
        '21544 worker-boot-error',
        '21544 worker-early-termination',
        '21546 worker-boot-error',
        '21546 worker-early-termination',
      ],
      'puma-6.4-boot-timeout.log': [
        '18871 phase-start phase=1 refork=false',
        '18871 worker-stopping workerPid=18880',
        '18871 worker-timed-out workerPid=18984 index=0 during=boot seconds=4',
        '18871 worker-timed-out workerPid=19085 index=0 during=boot seconds=4',
        '18871 worker-booted index=0 workerPid=19311 phase=1 bootSeconds=0.01',
        '18871 worker-stopping workerPid=18881',
        '18871 worker-booted index=1 workerPid=19320 phase=1 bootSeconds=0.02',
        '18871 worker-timed-out workerPid=19320 index=1 during=check-in seconds=60',
        '18871 worker-booted index=1 workerPid=19402 phase=1 bootSeconds=0.01',
      ],
      // Worker 0 is never restarted on refork, so only workers 1..N-1 boot
      'puma-6.6-refork.log': [
        '30100 banner-start mode=cluster',
        '30100 banner-version version=6.6.1',
        '30100 banner-workers workers=3',
        '30100 banner-restarts phased=true refork=true',
        '30100 listening address=http://127.0.0.1:19505',
        '30100 ready',
        '30100 worker-booted index=0 workerPid=30104 phase=0 bootSeconds=0.01',
        '30100 worker-booted index=1 workerPid=30109 phase=0 bootSeconds=0',
        '30100 worker-booted index=2 workerPid=30110 phase=0 bootSeconds=0',
        '30100 phase-start phase=1 refork=true',
        '30100 worker-stopping workerPid=30109',
        '30100 worker-booted index=1 workerPid=30150 phase=1 bootSeconds=0',
        '30100 worker-stopping workerPid=30110',
        '30100 worker-booted index=2 workerPid=30157 phase=1 bootSeconds=0',
      ],
      // log_formatter { |s| s }: Puma's messages without any prefix
      'puma-6.4-custom-formatter.log': [
        '- banner-start mode=cluster',
        '- banner-version version=6.4.2',
        '- banner-workers workers=2',
        '- banner-restarts phased=true',
        '- listening address=http://127.0.0.1:19506',
        '- ready',
        '- worker-booted index=0 workerPid=7150 phase=0 bootSeconds=0.01',
        '- worker-booted index=1 workerPid=7151 phase=0 bootSeconds=0.01',
        '- phase-start phase=1 refork=false',
        '- worker-booted index=0 workerPid=7160 phase=1 bootSeconds=0.01',
      ],
    },
  },
  {
    family: '7.x–8.x: preload by default, so USR1 falls back to a hot restart',
    fixtures: {
      'puma-8.0-preload-fallback.log': [
        '20966 phased-fallback',
        '20966 shutdown',
        '20966 hot-restart',
        '20966 banner-start mode=cluster',
        '20966 banner-version version=8.0.2',
        '20966 banner-workers workers=2',
        '20966 banner-restarts phased=false refork=false',
        '20966 preloading',
        '20966 listening address=tcp://127.0.0.1:19493',
        '20966 ready',
        '20966 worker-booted index=0 workerPid=21193 phase=0 bootSeconds=0',
        '20966 worker-booted index=1 workerPid=21196 phase=0 bootSeconds=0',
      ],
      'puma-8.0-preload-load-error.log': [
        '8449 phased-fallback',
        '8449 shutdown',
        '8449 hot-restart',
        '8449 banner-start mode=cluster',
        '8449 banner-version version=8.0.2',
        '8449 banner-workers workers=2',
        '8449 banner-restarts phased=false refork=false',
        '8449 preloading',
        '8449 app-load-error message=RuntimeError: boom: simulated boot failure',
        "- ruby-exception message=config.ru:3:in `block in <main>': boom: simulated boot failure (RuntimeError)",
      ],
    },
  },
  {
    family: 'single mode (no prefix; real Puma 5.6.5)',
    fixtures: {
      'puma-5.6-single-banner.log': [
        '- banner-start mode=single',
        '- banner-version version=5.6.5',
        '- listening address=http://127.0.0.1:43219',
        '- ready',
      ],
      // USR2, then USR1 (which single mode turns into a hot restart), then TERM
      'puma-5.6-single-restarts.log': [
        '- hot-restart',
        '- banner-start mode=single',
        '- banner-version version=5.6.5',
        '- listening address=tcp://127.0.0.1:43219',
        '- ready',
        '- phased-fallback',
        '- hot-restart',
        '- banner-start mode=single',
        '- banner-version version=5.6.5',
        '- listening address=tcp://127.0.0.1:43219',
        '- ready',
        '- shutdown',
      ],
    },
  },
]

/** Boot-failure loops: checked by their shape, since every retry has a new PID. */
const LOOPS: Record<
  string,
  {earlyTerminations: number; errors: number; head: string[]; master: number; tail: string[]}
> = {
  'puma-5.6-phased-boot-failure.log': {
    master: 8498,
    head: [
      '8498 worker-booted index=0 workerPid=8524 phase=0 bootSeconds=0.01',
      '8498 worker-booted index=1 workerPid=8526 phase=0 bootSeconds=0.01',
      '8498 phase-start phase=1 refork=false',
      '8498 worker-stopping workerPid=8524',
    ],
    tail: [
      '8498 worker-booted index=0 workerPid=8590 phase=1 bootSeconds=0.01',
      '8498 worker-stopping workerPid=8526',
      '8498 worker-booted index=1 workerPid=8601 phase=1 bootSeconds=0.01',
      '8498 shutdown',
      '8498 shutdown',
      '8498 shutdown',
    ],
    errors: 20,
    earlyTerminations: 16,
  },
  'puma-5.6-hot-restart-boot-failure.log': {
    master: 9476,
    head: [
      '9476 worker-booted index=0 workerPid=9480 phase=0 bootSeconds=0.01',
      '9476 worker-booted index=1 workerPid=9482 phase=0 bootSeconds=0.01',
      '9476 shutdown',
      '9476 hot-restart',
      '9476 banner-start mode=cluster',
      '9476 banner-version version=5.6.5',
      '9476 banner-workers workers=2',
      '9476 banner-restarts phased=true',
      '9476 listening address=tcp://127.0.0.1:36995',
      '9476 ready',
    ],
    tail: [
      '9476 worker-booted index=0 workerPid=9514 phase=0 bootSeconds=0.01',
      '9476 worker-booted index=1 workerPid=9519 phase=0 bootSeconds=0.01',
      '9476 shutdown',
      '9476 shutdown',
      '9476 shutdown',
    ],
    errors: 4,
    earlyTerminations: 3,
  },
}

/** The fixture's lines, parsed. */
function parseAll(name: string): LogEvent[] {
  return readLines(name).map((line) => parseLine(line))
}

/** A loop of failing boots: its head and tail as listed, and only failure lines from new worker PIDs between. */
function checkLoop(name: string, loop: (typeof LOOPS)[string]): void {
  const all = events(name)
  assert.deepEqual(all.slice(0, loop.head.length), loop.head)
  assert.deepEqual(all.slice(-loop.tail.length), loop.tail)
  const middle = all.slice(loop.head.length, -loop.tail.length).map((s) => s.split(' '))
  assert.deepEqual(new Set(middle.map(([, kind]) => kind)), new Set(['worker-boot-error', 'worker-early-termination']))
  assert.ok(
    middle.every(([pid]) => Number(pid) !== loop.master),
    'failure lines carry the worker PID, not the master PID',
  )
  const errorPids = middle.filter(([, kind]) => kind === 'worker-boot-error').map(([pid]) => pid)
  assert.equal(errorPids.length, loop.errors)
  assert.equal(new Set(errorPids).size, loop.errors, 'each retry is a new worker process')
  assert.equal(middle.filter(([, kind]) => kind === 'worker-early-termination').length, loop.earlyTerminations)
}

describe('log/parse', () => {
  describe('parseLine over fixture logs', () => {
    for (const {family, fixtures} of FAMILIES) {
      describe(family, () => {
        for (const [name, expected] of Object.entries(fixtures)) {
          it(name, () => assert.deepEqual(events(name), expected))
        }
      })
    }

    describe('5.3.2–5.6 boot-failure loops (real Puma 5.6.5 captures)', () => {
      for (const [name, loop] of Object.entries(LOOPS)) {
        it(name, () => checkLoop(name, loop))

        it(`${name}: 5.x logs only the first backtrace line after "! Unable to start worker"`, () => {
          const parsed = parseAll(name)
          for (const [i, event] of parsed.entries()) {
            if (event.kind !== 'worker-boot-error') continue
            const next = parsed[i + 1]
            assert.equal(next.kind, 'other')
            assert.equal(next.prefixPid, event.prefixPid)
            assert.match(next.line, /config\.ru:1:in `block in <main>'$/)
          }
        })
      }
    })

    it('6.0+ boot failures: the message and backtrace are other; continuation lines have no prefix', () => {
      const parsed = readLines('puma-6.0-boot-failure.log').map((line) => parseLine(line))
      const error = parsed.findIndex((e) => e.kind === 'worker-boot-error')
      assert.deepEqual(
        parsed.slice(error + 1, error + 7).map((e) => [e.kind, e.prefixPid]),
        [
          ['other', 21_544],
          ['other', 21_544],
          ['other', undefined],
          ['other', undefined],
          ['other', undefined],
          ['other', undefined],
        ],
      )
      assert.equal(parsed[error + 1].line, '[21544] boom: simulated boot failure')
    })

    it('covers every fixture log', () => {
      const covered = new Set([...FAMILIES.flatMap((f) => Object.keys(f.fixtures)), ...Object.keys(LOOPS)])
      const logs = readdirSync(logsDir).filter((name) => name.endsWith('.log'))
      assert.deepEqual(
        logs.filter((name) => !covered.has(name)),
        [],
      )
    })
  })

  describe('splitPrefix', () => {
    it('splits the [pid] prefix', () => {
      assert.deepEqual(splitPrefix('[7013] - Goodbye!'), {prefixPid: 7013, message: '- Goodbye!'})
    })

    it('leaves lines without a prefix alone', () => {
      assert.deepEqual(splitPrefix('- Goodbye!'), {message: '- Goodbye!'})
      assert.deepEqual(splitPrefix('[7013]- Goodbye!'), {message: '[7013]- Goodbye!'})
      assert.deepEqual(splitPrefix('[abc] - Goodbye!'), {message: '[abc] - Goodbye!'})
    })

    it("finds the prefix behind a log_formatter's timestamp, or app text glued in front of it", () => {
      assert.deepEqual(splitPrefix(' [7013] - Goodbye!'), {prefixPid: 7013, message: '- Goodbye!'})
      assert.deepEqual(splitPrefix('2026-11-29T15:00:00Z [7013] - Goodbye!'), {prefixPid: 7013, message: '- Goodbye!'})
      assert.deepEqual(splitPrefix('no newline here[7013] - Goodbye!'), {prefixPid: 7013, message: '- Goodbye!'})
    })
  })

  describe('parseLine on hostile input', () => {
    it('keeps the raw line and strips only its line end', () => {
      assert.deepEqual(parseLine('[7013] - Goodbye!\r\n'), {
        kind: 'shutdown',
        prefixPid: 7013,
        line: '[7013] - Goodbye!',
      })
      assert.deepEqual(parseLine('[7013] - Goodbye!\r'), {kind: 'shutdown', prefixPid: 7013, line: '[7013] - Goodbye!'})
      assert.deepEqual(parseLine('[7013] - Goodbye!\n'), {kind: 'shutdown', prefixPid: 7013, line: '[7013] - Goodbye!'})
    })

    it('treats a carriage return inside a line as part of it', () => {
      assert.equal(parseLine('[7013] - Good\rbye!').kind, 'other')
      assert.deepEqual(parseLine('ERROR: a\rb'), {kind: 'fatal', message: 'a\rb', line: 'ERROR: a\rb'})
    })

    it('returns other for empty, blank and prefix-only lines', () => {
      for (const line of ['', ' ', '\t', '\r', '[7013] ', '[7013]', '[] x', '[', '    ']) {
        assert.equal(parseLine(line).kind, 'other', JSON.stringify(line))
      }
    })

    it('reads the last prefix: the one Puma wrote when text was glued in front of its line', () => {
      assert.deepEqual(parseLine('[1] [2] - Goodbye!'), {kind: 'shutdown', prefixPid: 2, line: '[1] [2] - Goodbye!'})
      assert.deepEqual(parseLine('[1] - Goodbye! [2] x'), {kind: 'other', prefixPid: 2, line: '[1] - Goodbye! [2] x'})
    })

    it("reads a log_formatter's message: words between the prefix and Puma's text", () => {
      const line = '[7013] [web-1] 2026-11-29 15:00:00 +0000: - Worker 0 (PID: 7150) booted in 0.01s, phase: 1'
      assert.deepEqual(parseLine(line), {
        kind: 'worker-booted',
        index: 0,
        workerPid: 7150,
        phase: 1,
        bootSeconds: 0.01,
        prefixPid: 7013,
        line,
      })
    })

    it('bounds the work on a line of many prefixes and words', () => {
      const line = `${'[1] '.repeat(10_000)}${'word '.repeat(10_000)}- Goodbye!`
      const started = performance.now()
      assert.equal(parseLine(line).kind, 'other')
      assert.ok(performance.now() - started < 200, 'bounded')
    })

    it('does not take a huge number for a PID', () => {
      const line = `[${'9'.repeat(40)}] - Goodbye!`
      assert.deepEqual(parseLine(line), {kind: 'other', line})
    })

    it('never throws on random bytes', () => {
      let seed = 42
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
        return seed / 2_147_483_648
      }

      const pieces = [
        '[',
        ']',
        ' ',
        '- Worker ',
        '(PID: ',
        ') booted in ',
        's, phase: ',
        '9',
        '.',
        '\r',
        '\n',
        '\u0000',
        '\uFFFD',
        '✔',
        '\uD800',
        '* ',
        '! ',
        'ERROR: ',
      ]
      for (let i = 0; i < 5000; i++) {
        const length = Math.floor(random() * 20)
        const line = Array.from({length}, () =>
          random() < 0.5
            ? pieces[Math.floor(random() * pieces.length)]
            : String.fromCodePoint(Math.floor(random() * 0xff_ff)),
        ).join('')
        const event = parseLine(line)
        assert.equal(typeof event.kind, 'string')
      }

      const bytes = Buffer.from(Array.from({length: 200_000}, () => Math.floor(random() * 256)))
      for (const encoding of ['utf8', 'latin1'] as const) {
        for (const line of bytes.toString(encoding).split('\n')) parseLine(line)
      }
    })

    it('never throws on non-strings from untyped callers', () => {
      for (const value of [undefined, null, 42, {}, Object.create(null), Symbol('x')]) {
        assert.deepEqual(parseLine(value as unknown as string), {kind: 'other', line: ''})
      }
    })

    it('stays fast on very long lines', () => {
      const long = 'x'.repeat(5_000_000)
      const lines = [
        long,
        `[7013] ${long}`,
        `[7013] ! Terminating timed out worker ${'1'.repeat(1_000_000)}x`,
        `[7013] ! Terminating timed out worker ${': 1'.repeat(500_000)}x`,
        `[7013] - Worker ${'1'.repeat(1_000_000)} booted, phase: x`,
        `[7013] === puma shutdown: ${'='.repeat(1_000_000)}`,
        `[7013] * Listening on ${long}`,
      ]
      const started = process.hrtime.bigint()
      for (const line of lines) parseLine(line)
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      assert.ok(ms < 2000, `took ${ms} ms`)
      assert.equal(parseLine(`[7013] * Listening on ${long}`).kind, 'listening')
    })

    it('parses a 2.0–2.7 boot line with a PID where 2.8+ has an index', () => {
      assert.deepEqual(parseLine('[38009] - Worker 38016 booted, phase: 0'), {
        kind: 'worker-booted',
        workerPid: 38_016,
        phase: 0,
        prefixPid: 38_009,
        line: '[38009] - Worker 38016 booted, phase: 0',
      })
    })

    it('does not see through a log_formatter that adds text before the message', () => {
      // A known limit: such prefixes are arbitrary, so the caller must strip them (docs/puma-facts.md §9)
      assert.equal(parseLine('2026-11-23T16:25:24Z - Worker 0 (PID: 7160) booted in 0.01s, phase: 1').kind, 'other')
    })
  })
})
