import {strict as assert} from 'node:assert'

import {CtlError, EXIT} from '../../src/errors.js'
import {firstLine, renderError} from '../../src/render/error.js'
import {FakeTerminal, hasColour} from '../helpers/fake-terminal.js'

const failed = () =>
  new CtlError('workerFailed', 'worker 1 failed to boot in phase 2\nRuby backtrace follows', {
    details: ['  app.rb:3: boom', '  worker 0 still serves phase 1'],
    suggestion: 'fix the app and run ctl phased-restart again',
    data: {phase: 2, failedWorkers: [1]},
  })

/** Renders to a fake stdout and stderr; returns the exit code and what each got. */
async function render(
  thrown: unknown,
  options: {compact?: boolean; env?: NodeJS.ProcessEnv; json?: boolean; tty?: boolean} = {},
) {
  const stdout = new FakeTerminal({isTTY: false})
  const stderr = new FakeTerminal({isTTY: options.tty ?? false})
  const exitCode = await renderError(thrown, {
    compact: options.compact,
    json: options.json ?? false,
    env: options.env ?? {},
    stdout,
    stderr,
  })
  return {exitCode, stdout: stdout.written, stderr: stderr.written}
}

describe('render/error', () => {
  it("prints a CtlError's first line, its details and its hint to stderr, and returns its exit code", async () => {
    assert.deepEqual(await render(failed()), {
      exitCode: EXIT.workerFailed,
      stdout: '',
      stderr: [
        'Error: worker 1 failed to boot in phase 2',
        '  app.rb:3: boom',
        '  worker 0 still serves phase 1',
        'Hint: fix the app and run ctl phased-restart again',
        '',
      ].join('\n'),
    })
  })

  it('quotes log lines and messages printable: an escape in them cannot erase or redraw the terminal', async () => {
    const forged = new CtlError('workerFailed', 'Worker 0 failed to boot: \u001B[1A\u001B[2K', {
      details: ['[4321] boom\u001B[2K\r✔ Phased restart finished'],
      suggestion: 'see \u009B2J',
      data: {errorLines: ['[4321] boom\u001B[2K']},
    })
    const text = await render(forged)
    for (const raw of ['\u001B', '\u009B', '\r']) assert.ok(!text.stderr.includes(raw), JSON.stringify(text.stderr))
    assert.match(
      text.stderr,
      /^Error: Worker 0 failed to boot: \\x1b\[1A\\x1b\[2K\n\[4321\] boom\\x1b\[2K\\x0d✔ Phased/,
    )
    // Under --json too: a `jq -r` of any field must not bring the escape back.
    const json = JSON.parse((await render(forged, {json: true})).stdout)
    assert.equal(json.error.details[0], String.raw`[4321] boom\x1b[2K\x0d✔ Phased restart finished`)
    assert.equal(json.error.errorLines[0], String.raw`[4321] boom\x1b[2K`)
    assert.equal(json.error.suggestion, String.raw`see \x9b2J`)
  })

  it('prints one JSON object with the exit code, the hint, the details and the data to stdout under --json', async () => {
    const {exitCode, stdout, stderr} = await render(failed(), {json: true})
    assert.equal(exitCode, EXIT.workerFailed)
    assert.equal(stderr, '')
    assert.deepEqual(JSON.parse(stdout), {
      error: {
        message: 'worker 1 failed to boot in phase 2',
        exitCode: 5,
        suggestion: 'fix the app and run ctl phased-restart again',
        details: ['  app.rb:3: boom', '  worker 0 still serves phase 1'],
        phase: 2,
        failedWorkers: [1],
      },
    })
  })

  it('prints the same object on one line when compact (the last line of --ndjson)', async () => {
    const pretty = await render(failed(), {json: true})
    const compact = await render(failed(), {json: true, compact: true})
    assert.equal(compact.exitCode, EXIT.workerFailed)
    assert.equal(compact.stdout, `${JSON.stringify(JSON.parse(pretty.stdout))}\n`)
  })

  it('leaves out what a CtlError does not have', async () => {
    const {stdout} = await render(new CtlError('noMaster', 'no Puma master found'), {json: true})
    assert.deepEqual(JSON.parse(stdout), {error: {message: 'no Puma master found', exitCode: EXIT.noMaster}})
  })

  it('gives an unexpected error exit code 1, and its stack only with DEBUG', async () => {
    const plain = await render(new TypeError('x is undefined'))
    assert.equal(plain.exitCode, EXIT.unexpected)
    assert.equal(plain.stderr, 'Error: x is undefined\n')
    const debug = await render(new TypeError('x is undefined'), {env: {DEBUG: '*'}})
    assert.match(debug.stderr, /^Error: x is undefined\nTypeError: x is undefined\n {4}at /)
    assert.deepEqual(JSON.parse((await render('a thrown string', {json: true})).stdout), {
      error: {message: 'a thrown string', exitCode: EXIT.unexpected},
    })
  })

  it('colours the message and the hint on a terminal, unless NO_COLOR is set', async () => {
    const coloured = await render(failed(), {tty: true, env: {TERM: 'xterm'}})
    assert.ok(coloured.stderr.startsWith('\u001B[31mError: worker 1 failed to boot in phase 2\u001B[39m\n'))
    assert.ok(coloured.stderr.includes('\u001B[2mHint: fix the app'), 'the hint is not dim')
    const noColour = await render(failed(), {tty: true, env: {NO_COLOR: '1'}})
    assert.ok(!hasColour(noColour.stderr))
    assert.equal(noColour.stderr, (await render(failed())).stderr)
  })

  describe('firstLine', () => {
    const cases: Array<[string, string, string]> = [
      ['a one-line message', 'no Puma master found', 'no Puma master found'],
      ['the first of several lines, trimmed', '  worker failed  \nbacktrace', 'worker failed'],
      [
        "oclif's parse error, without its boilerplate",
        'The following error occurred:\n  Expected --timeout=abc to be an integer\nSee more help with --help',
        'Expected --timeout=abc to be an integer',
      ],
      [
        "oclif's 'Parsing --flag' with the reason on the next line",
        'Parsing --timeout \n\tExpected an integer but received: abc\nSee more help with --help',
        'Parsing --timeout: Expected an integer but received: abc',
      ],
      ['nothing at all', '\n \n', 'unknown error'],
    ]
    for (const [name, message, expected] of cases) {
      it(name, () => assert.equal(firstLine(message), expected))
    }
  })
})
