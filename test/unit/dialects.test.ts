import {strict as assert} from 'node:assert'

import {LINE_PATTERNS, type LinePattern, pumaAtLeast} from '../../src/log/dialects.js'
import {parseLine} from '../../src/log/parse.js'

const patterns: readonly LinePattern[] = LINE_PATTERNS

/** Release tags as comparable numbers; pre-releases such as 2.0.0.b5 sort with their release. */
function versionKey(tag: string): number {
  const [major, minor, patch] = tag.split('.').map((part) => Number.parseInt(part, 10) || 0)
  return (major * 1000 + minor) * 1000 + patch
}

describe('dialects', () => {
  describe('the line pattern table', () => {
    it('has unique ids', () => {
      const ids = patterns.map((p) => p.id)
      assert.deepEqual(
        ids.filter((id, i) => ids.indexOf(id) !== i),
        [],
      )
    })

    it('has version ranges that run forwards', () => {
      for (const p of patterns) {
        if (p.until) assert.ok(versionKey(p.since) <= versionKey(p.until), `${p.id}: ${p.since} > ${p.until}`)
      }
    })

    for (const p of patterns) {
      const name = `${p.id} (${p.since}${p.until ? `–${p.until}` : '+'})`
      it(`${name}: matches its example, and no earlier pattern does`, () => {
        assert.match(p.example, p.re)
        const first = patterns.find((q) => q.re.test(p.example))
        assert.equal(first?.id, p.id)
      })

      it(`${name}: parses its example to ${p.kind}, with or without the [pid] prefix`, () => {
        assert.equal(parseLine(p.example).kind, p.kind)
        const prefixed = parseLine(`[4242] ${p.example}`)
        assert.equal(prefixed.kind, p.kind)
        assert.equal(prefixed.prefixPid, 4242)
      })

      it(`${name}: does not match its example as an indented continuation line`, () => {
        assert.equal(parseLine(`    ${p.example}`).kind, 'other')
      })
    }
  })

  describe('fields per format', () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      // Boot line, four formats (§1.3)
      ['- Worker 38016 booted, phase: 0', {kind: 'worker-booted', workerPid: 38_016, phase: 0}],
      ['- Worker 0 (pid: 1389) booted, phase: 1', {kind: 'worker-booted', index: 0, workerPid: 1389, phase: 1}],
      ['- Worker 1 (PID: 1389) booted, phase: 3', {kind: 'worker-booted', index: 1, workerPid: 1389, phase: 3}],
      [
        '- Worker 0 (PID: 7150) booted in 0.01s, phase: 1',
        {kind: 'worker-booted', index: 0, workerPid: 7150, phase: 1, bootSeconds: 0.01},
      ],
      [
        '- Worker 12 (PID: 7150) booted in 123.4s, phase: 10',
        {kind: 'worker-booted', index: 12, workerPid: 7150, phase: 10, bootSeconds: 123.4},
      ],
      // Timed-out workers, three formats (§1.6)
      ['! Terminating timed out worker: 2200', {kind: 'worker-timed-out', workerPid: 2200, during: 'unknown'}],
      [
        '! Terminating timed out worker (worker failed to check in within 60 seconds): 5',
        {kind: 'worker-timed-out', workerPid: 5, during: 'check-in', seconds: 60},
      ],
      [
        '! Terminating timed out worker (worker failed to boot within 4 seconds): 18984',
        {kind: 'worker-timed-out', workerPid: 18_984, during: 'boot', seconds: 4},
      ],
      [
        '! Terminating timed out worker (Worker 1 failed to boot within 4.5 seconds): 7',
        {kind: 'worker-timed-out', workerPid: 7, index: 1, during: 'boot', seconds: 4.5},
      ],
      [
        '! Terminating timed out worker (Worker 1 failed to check in within 60 seconds): 7',
        {kind: 'worker-timed-out', workerPid: 7, index: 1, during: 'check-in', seconds: 60},
      ],
      // Phased restart and refork
      ['- Starting phased worker restart, phase: 12', {kind: 'phase-start', phase: 12, refork: false}],
      ['- Starting worker refork, phase: 2', {kind: 'phase-start', phase: 2, refork: true}],
      ['- Stopping 7018 for phased upgrade...', {kind: 'worker-stopping', workerPid: 7018}],
      ['- Stopping 7018 for refork...', {kind: 'worker-stopping', workerPid: 7018}],
      ['- Worker 1 (pid: 2210) terminating', {kind: 'worker-terminating', index: 1, workerPid: 2210}],
      ['- Worker 1 (PID: 9240) terminating', {kind: 'worker-terminating', index: 1, workerPid: 9240}],
      // Banner
      ['Puma starting in single mode...', {kind: 'banner-start', mode: 'single'}],
      ['Puma 2.0.1 starting...', {kind: 'banner-start', mode: 'single'}],
      ['Puma 2.2.2 starting in cluster mode...', {kind: 'banner-start', mode: 'cluster'}],
      ['* Version 2.7.1, codename: Earl of Sandwich Partition', {kind: 'banner-version', version: '2.7.1'}],
      [
        '* Version 4.3.12 (ruby 3.1.7-p261), codename: Mysterious Traveller',
        {kind: 'banner-version', version: '4.3.12'},
      ],
      ['* Puma version: 8.0.2 ("Into the Arena")', {kind: 'banner-version', version: '8.0.2'}],
      ['* Process workers: 4', {kind: 'banner-workers', workers: 4}],
      ['*      Workers: 16', {kind: 'banner-workers', workers: 16}],
      ['*     Restarts: (✔) hot (✔) phased', {kind: 'banner-restarts', phased: true}],
      ['*     Restarts: (✔) hot (✖) phased', {kind: 'banner-restarts', phased: false}],
      ['*     Restarts: (✔) hot (✔) phased (✖) refork', {kind: 'banner-restarts', phased: true, refork: false}],
      ['*     Restarts: (✔) hot (✖) phased (✔) refork', {kind: 'banner-restarts', phased: false, refork: true}],
      ['* Phased restart available', {kind: 'banner-restarts', phased: true}],
      ['* Listening on unix:///srv/app/tmp/puma.sock', {kind: 'listening', address: 'unix:///srv/app/tmp/puma.sock'}],
      [
        '* Listening on ssl://0.0.0.0:443?key=k.pem&cert=c.pem',
        {kind: 'listening', address: 'ssl://0.0.0.0:443?key=k.pem&cert=c.pem'},
      ],
      ['* Inherited tcp://127.0.0.1:43101', {kind: 'listening', address: 'tcp://127.0.0.1:43101'}],
      ['* Activated tcp://[::]:9292', {kind: 'listening', address: 'tcp://[::]:9292'}],
      // Failures
      ['! Unable to load application: RuntimeError: boom', {kind: 'app-load-error', message: 'RuntimeError: boom'}],
      [
        '! Unable to load application: Bundler::GemNotFound: Could not find rack-3.0.0 in locally installed gems',
        {kind: 'app-load-error', message: 'Bundler::GemNotFound: Could not find rack-3.0.0 in locally installed gems'},
      ],
      ['! Unable to load application', {kind: 'app-load-error', message: ''}],
      [
        'ERROR: No application configured, nothing to run',
        {kind: 'fatal', message: 'No application configured, nothing to run'},
      ],
      ['! Seppuku is the only choice.', {kind: 'fatal', message: 'Seppuku is the only choice.'}],
      ['+ Gemfile in context: /srv/app/Gemfile', {kind: 'worker-starting'}],
      ['+ Gemfile in context: /srv/app/gems.rb', {kind: 'worker-starting'}],
      // Stopping; ≤2.2 wrote the single-mode line with a leading space
      [' - Gracefully stopping, waiting for requests to finish', {kind: 'shutdown'}],
      ['- All workers reached idle timeout', {kind: 'idle-stop'}],
      ['- Idle timeout reached', {kind: 'idle-stop'}],
    ]

    for (const [message, expected] of cases) {
      it(message, () => {
        const {line, prefixPid, ...event} = parseLine(`[100] ${message}`)
        assert.deepEqual(event, expected)
        assert.equal(prefixPid, 100)
        assert.equal(line, `[100] ${message}`)
      })
    }
  })

  describe('near misses stay other', () => {
    const others = [
      '* Closing unused inherited connection: tcp://127.0.0.1:9292',
      '* Starting control server on unix:///srv/app/pumactl.sock',
      '* refork called but not available.',
      '- TERM sent to 7018...',
      '- KILL sent to 7018...',
      '+ Changing to /srv/app/current',
      '=== puma startup: 2026-11-24 12:19:44 +0000 ===',
      '! Detected parent died, dying',
      '! Complete inability to spawn new workers detected',
      '! Out-of-sync worker list, no 123 worker',
      '! Cancelled waiting for workers',
      '! reaped unknown child status: pid 77 exit 0', // 6.4.1+ as PID 1: not a worker's failure
      '! WARNING: Detected running cluster mode with 1 worker.',
      'Master seems to have exited, exiting.',
      '*          PID: 9384',
      '*   Master PID: 9384',
      '* Min threads: 0, max threads: 16',
      '- Worker 0 (PID: 7150) booted in 0.01s, phase: ',
      '- Worker x (PID: 7150) booted in 0.01s, phase: 1',
      '- Worker 0 (PID: 7150) booted in 0.01s, phase: 1 (extra)',
      '! Unable to start worker: extra',
      'Use Ctrl-C to stop now',
      'Started GET "/" for 127.0.0.1 at 2026-11-24 12:00:00 +0000',
    ]

    for (const message of others) {
      it(JSON.stringify(message), () => {
        assert.equal(parseLine(`[100] ${message}`).kind, 'other')
        assert.equal(parseLine(message).kind, 'other')
      })
    }

    it('a message after other words counts only behind a prefix, where a log_formatter put them', () => {
      const logger = 'I, [2026-11-24T12:00:00.000000 #7150]  INFO -- : - Worker 0 (PID: 1) booted in 0.01s, phase: 1'
      assert.equal(parseLine(logger).kind, 'other')
      assert.equal(parseLine(`[100] ${logger}`).kind, 'worker-booted')
    })
  })

  describe('pumaAtLeast', () => {
    it('compares versions part by part, and an unknown version is never at least anything', () => {
      assert.ok(pumaAtLeast('5.6.5', '5.3.2'))
      assert.ok(pumaAtLeast('5.3.2', '5.3.2'))
      assert.ok(!pumaAtLeast('5.3.1', '5.3.2'))
      assert.ok(pumaAtLeast('10.0.0', '7.0.0'), 'numbers, not strings')
      assert.ok(pumaAtLeast('7.0.0.pre1', '7.0.0'))
      assert.ok(!pumaAtLeast('6.6.1', '7.0.0'))
      assert.ok(!pumaAtLeast(undefined, '2.0.0'))
      assert.ok(!pumaAtLeast('', '2.0.0'))
    })
  })
})
