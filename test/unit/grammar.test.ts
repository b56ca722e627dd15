import {strict as assert} from 'node:assert'

import {COMMAND_LOADERS} from '../../src/cli/commands.js'
import {normalizeArgv, VALUE_OPTIONS} from '../../src/cli/grammar.js'

const COMMANDS = ['phased-restart', 'restart', 'reopen-logs', 'stats', 'status', 'stop']

const argvOf = (...argv: string[]) => {
  const invocation = normalizeArgv(argv, COMMANDS)
  assert.equal(invocation.kind, 'run', JSON.stringify(invocation))
  return invocation.kind === 'run' ? invocation.argv : []
}

const refusal = (...argv: string[]) => {
  const invocation = normalizeArgv(argv, COMMANDS)
  assert.equal(invocation.kind, 'refused')
  return invocation.kind === 'refused' ? invocation : assert.fail()
}

describe("the command line's grammar: ctl's and pumactl's", () => {
  it("ctl's own form is left as it is", () => {
    assert.deepEqual(argvOf('status', '--pidfile', 'tmp/pids/puma.pid', '--json'), [
      'status',
      '--pidfile',
      'tmp/pids/puma.pid',
      '--json',
    ])
  })

  it("pumactl's options before the command move after it, values and all", () => {
    assert.deepEqual(argvOf('-S', 'tmp/pids/puma.state', 'phased-restart'), [
      'phased-restart',
      '-S',
      'tmp/pids/puma.state',
    ])
    assert.deepEqual(argvOf('-P', 'tmp/pids/puma.pid', '-Q', 'restart'), [
      'restart',
      '-P',
      'tmp/pids/puma.pid',
      '--quiet',
    ])
    assert.deepEqual(argvOf('-C', 'tcp://127.0.0.1:9293', '-T', 'secret', 'stats', '--json'), [
      'stats',
      '-C',
      'tcp://127.0.0.1:9293',
      '-T',
      'secret',
      '--json',
    ])
  })

  it("an option's value that happens to be a command's name is not the command", () => {
    assert.deepEqual(argvOf('-S', 'stop', 'status'), ['status', '-S', 'stop'])
    assert.deepEqual(argvOf('--pidfile', 'restart', 'stop'), ['stop', '--pidfile', 'restart'])
  })

  it("pumactl's names and short options: reopen-log, -Q, -H, -h, -V, help [COMMAND]", () => {
    assert.deepEqual(argvOf('reopen-log', '-P', 'p'), ['reopen-logs', '-P', 'p'])
    assert.deepEqual(argvOf('status', '-Q'), ['status', '--quiet'])
    assert.deepEqual(argvOf('-h'), ['--help'])
    assert.deepEqual(argvOf('-H'), ['--help'])
    assert.deepEqual(argvOf('status', '-h'), ['status', '--help'])
    assert.deepEqual(argvOf('-V'), ['--version'])
    assert.deepEqual(argvOf('help'), ['--help'])
    assert.deepEqual(argvOf('help', 'reopen-log'), ['reopen-logs', '--help'])
  })

  it('what comes after -- is passed on as typed: not renamed, not moved (ctl start -- -h)', () => {
    assert.deepEqual(argvOf('-Q', 'stop', '--', '-h', '-Q'), ['stop', '--quiet', '--', '-h', '-Q'])
    assert.deepEqual(argvOf('--puma', 'stop', 'stop', '--', '-w', '2'), ['stop', '--puma', 'stop', '--', '-w', '2'])
  })

  it('no command at all is left to oclif (its overview, --version)', () => {
    assert.deepEqual(argvOf(), [])
    assert.deepEqual(argvOf('--version'), ['--version'])
  })

  it('options without a command: help and version as asked, anything else refused in one line (JSON under --json)', () => {
    assert.deepEqual(argvOf('-h', '--json'), ['--help'])
    assert.deepEqual(argvOf('--json', '--help'), ['--help'])
    assert.deepEqual(argvOf('-V', '--json'), ['--version'])
    for (const argv of [['-S'], ['--json'], ['-P', 'tmp/pids/puma.pid'], ['-S', 'x', '-Q']]) {
      const {error, json} = refusal(...argv)
      assert.equal(error.exitCode, 2)
      assert.equal(error.message, 'no command given', argv.join(' '))
      assert.equal(json, argv.includes('--json'))
    }
  })

  it('a typo is refused with the nearest commands; a word far from any, with none', () => {
    assert.equal(
      refusal('phased-restrat').error.message,
      '"phased-restrat" is not a ctl command: did you mean phased-restart?',
    )
    assert.equal(refusal('stauts').error.message, '"stauts" is not a ctl command: did you mean stats or status?')
    assert.equal(refusal('reopen-lg').error.message, '"reopen-lg" is not a ctl command: did you mean reopen-logs?')
    assert.equal(refusal('deploy').error.message, '"deploy" is not a ctl command')
    assert.equal(refusal('help', 'stp').error.message, '"stp" is not a ctl command: did you mean stop?')
    assert.equal(refusal('-S', 'x', 'stauts', '--json').json, true)
    assert.equal(refusal('stauts').error.exitCode, 2)
  })

  it('a long word is quoted short', () => {
    assert.match(refusal('x'.repeat(500)).error.message, /^"x{40}…" is not a ctl command$/)
  })

  it("knows every command's options that take a value, so that no value is taken for the command", async () => {
    for (const [id, load] of Object.entries(COMMAND_LOADERS)) {
      // eslint-disable-next-line no-await-in-loop -- one command's flags after the other
      const {flags} = (await load()).default
      for (const [name, flag] of Object.entries(flags)) {
        if (flag.kind === 'boolean') continue
        assert.ok(VALUE_OPTIONS.has(`--${name}`), `${id} --${name}`)
        if (flag.char) assert.ok(VALUE_OPTIONS.has(`-${flag.char}`), `${id} -${flag.char}`)
      }
    }

    assert.deepEqual(argvOf('--soak', '30', 'phased-restart'), ['phased-restart', '--soak', '30'])
  })

  it("ctl wait's token before the command is the option's value, not the command", () => {
    const invocation = normalizeArgv(['-S', 'puma.state', '--since', 'v1.e30', 'wait'], [...COMMANDS, 'wait'])
    assert.deepEqual(invocation, {kind: 'run', argv: ['wait', '-S', 'puma.state', '--since', 'v1.e30']})
  })
})
