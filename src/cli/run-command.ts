import {EXIT, type ExitCode} from '../errors.js'
import {renderError} from '../render/error.js'
import {printableJson} from '../text/printable.js'
import {type CommandSpec} from './command.js'
import {fillFromEnvironment, type FlagSpecs, type FlagValues} from './flags.js'
import {listenForInterrupts, stoppedBy} from './interrupts.js'

/**
 * Runs a command with parsed flags (and the environment's values for flags not given), prints its
 * result (text, or JSON under --json) or its error, and returns the exit code. Both the fast path
 * and the oclif commands end here.
 */
export async function runCommand<F extends FlagSpecs>(
  spec: CommandSpec<F>,
  parsed: FlagValues<F>,
  env: NodeJS.ProcessEnv = process.env,
  passThrough: readonly string[] = [],
): Promise<ExitCode> {
  const flags = fillFromEnvironment(spec.flags, parsed, env)
  const interrupts = listenForInterrupts()
  let view: undefined | {stop(): void}
  // --ndjson (the restarts' event stream) ends with what --json prints, on one line; nothing else is printed.
  const stream = (flags as {ndjson?: boolean}).ndjson === true
  const json = flags.json || stream
  try {
    const result = await spec.run(flags, {
      json,
      passThrough,
      signal: interrupts.signal,
      terminal: {env, stderr: process.stderr, stdout: process.stdout},
      log(text) {
        if (!json) process.stdout.write(`${text}\n`)
      },
      note(text) {
        if (!json && !flags.quiet) process.stderr.write(`${text}\n`)
      },
      showing(shown) {
        view = shown
      },
    })
    view?.stop()
    if (json && result !== undefined)
      process.stdout.write(`${JSON.stringify(result, printableJson, stream ? undefined : 2)}\n`)
    return EXIT.ok
  } catch (error) {
    view?.stop()
    return await renderError(stoppedBy(error, interrupts.received()), {json, compact: stream, env})
  } finally {
    interrupts.dispose()
  }
}
