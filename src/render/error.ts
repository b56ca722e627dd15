import {CtlError, EXIT, type ExitCode} from '../errors.js'
import {printable, printableJson} from '../text/printable.js'
import {paintFor} from './colour.js'

export interface ErrorOutput {
  /** The JSON object on one line: the last line of an --ndjson stream. */
  compact?: boolean
  env?: NodeJS.ProcessEnv
  json: boolean
  /** Where the text goes (default process.stderr); colour only when it is a terminal. */
  stderr?: Pick<NodeJS.WriteStream, 'isTTY' | 'write'>
  /** Where the JSON object goes (default process.stdout). */
  stdout?: Pick<NodeJS.WriteStream, 'write'>
}

/** Prints an error the one way ctl prints errors (one line, details, a hint; or a JSON object) and returns its exit code. */
export async function renderError(thrown: unknown, output: ErrorOutput): Promise<ExitCode> {
  const {compact = false, json, env = process.env, stdout = process.stdout, stderr = process.stderr} = output
  const error = thrown instanceof Error ? thrown : new Error(String(thrown))
  const exitCode = error instanceof CtlError ? error.exitCode : EXIT.unexpected
  if (json) {
    stdout.write(`${JSON.stringify({error: errorJson(error, exitCode)}, printableJson, compact ? undefined : 2)}\n`)
    return exitCode
  }

  const paint = await paintFor(stderr, env)
  // Messages and details quote logs, titles and remote answers: printable before they are painted.
  const lines = [paint.red(`Error: ${printable(firstLine(error.message))}`)]
  if (error instanceof CtlError) lines.push(...error.details.map((detail) => printable(detail)))
  if (error instanceof CtlError && error.suggestion) lines.push(paint.dim(`Hint: ${printable(error.suggestion)}`))
  if (env.DEBUG && error.stack) lines.push(error.stack)
  stderr.write(`${lines.join('\n')}\n`)
  return exitCode
}

/** One line from any error: oclif's parse errors come as several, around boilerplate. */
export function firstLine(message: string): string {
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter(
      (line) =>
        line !== '' && !/^The following errors? occurred:$/.test(line) && !line.startsWith('See more help with'),
    )
  if (lines.length === 0) return 'unknown error'
  return /^Parsing --\S+$/.test(lines[0]) && lines[1] ? `${lines[0]}: ${lines[1]}` : lines[0]
}

function errorJson(error: Error, exitCode: ExitCode): Record<string, unknown> {
  const base = {message: firstLine(error.message), exitCode}
  if (!(error instanceof CtlError)) return base
  return {
    ...base,
    suggestion: error.suggestion,
    details: error.details.length > 0 ? error.details : undefined,
    ...error.data,
  }
}
