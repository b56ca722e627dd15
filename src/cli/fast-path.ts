import {EXIT} from '../errors.js'
import {renderError} from '../render/error.js'
import {COMMAND_LOADERS} from './commands.js'
import {normalizeArgv} from './grammar.js'
import {parseArgv} from './parse-argv.js'
import {runCommand} from './run-command.js'

/** Commands of oclif's plugins (package.json oclif.plugins): oclif runs them. */
const PLUGIN_COMMANDS = ['autocomplete']

/**
 * bin/run.js's first step: puts argv in ctl's grammar (pumactl's is accepted too), then runs the
 * command without loading oclif, whose start-up costs more than pumactl's whole run. Returns the
 * argv it leaves to oclif (no command, --help, completion, argv it does not parse,
 * PUMA_CTL_FAST_PATH=0, or CTL_CONTENT_TYPE), or true when it has run the command.
 */
export async function runFast(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string[] | true> {
  const invocation = normalizeArgv(argv, [...Object.keys(COMMAND_LOADERS), ...PLUGIN_COMMANDS])
  if (invocation.kind === 'refused') exitWith(await renderError(invocation.error, {json: invocation.json, env}))
  const [id, ...rest] = invocation.argv
  if (!Object.hasOwn(COMMAND_LOADERS, id) || env.PUMA_CTL_FAST_PATH === '0' || env.CTL_CONTENT_TYPE)
    return invocation.argv
  const spec = (await COMMAND_LOADERS[id]()).default
  // After `--`, a command that passes arguments on (start: to Puma) takes them as they are.
  const end = spec.passThrough === undefined ? -1 : rest.indexOf('--')
  const passThrough = end === -1 ? [] : rest.slice(end + 1)
  const flags = parseArgv(end === -1 ? rest : rest.slice(0, end), spec.flags)
  if (!flags) return invocation.argv
  // As oclif does: a reader that went away (`ctl status | head -1`) is not an error; nor is a
  // terminal that hung up (EIO), which runCommand takes for SIGHUP.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'EIO') throw error
  })
  const exitCode = await runCommand(spec, flags, env, passThrough)
  if (exitCode !== EXIT.ok) exitWith(exitCode)
  return true
}

/** As oclif does: a failed command ends now, whatever it left open. */
function exitWith(code: number): never {
  // eslint-disable-next-line n/no-process-exit, unicorn/no-process-exit -- the exit code is the command's result
  process.exit(code)
}
