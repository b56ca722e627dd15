import {EXIT} from '../errors.js'
import {COMMAND_LOADERS} from './commands.js'
import {parseArgv} from './parse-argv.js'
import {runCommand} from './run-command.js'

/**
 * bin/run.js's first step: runs the command without loading oclif, whose start-up costs more than
 * pumactl's whole run. Returns false (nothing done) for whatever it leaves to oclif: no command,
 * --help, completion, argv it does not parse, PUMA_CTL_FAST_PATH=0, or CTL_CONTENT_TYPE.
 */
export async function runFast(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const [id, ...rest] = argv
  if (!Object.hasOwn(COMMAND_LOADERS, id) || env.PUMA_CTL_FAST_PATH === '0' || env.CTL_CONTENT_TYPE) return false
  const spec = (await COMMAND_LOADERS[id]()).default
  const flags = parseArgv(rest, spec.flags)
  if (!flags) return false
  // As oclif does: a reader that went away (`ctl status | head -1`) is not an error; nor is a
  // terminal that hung up (EIO), which runCommand takes for SIGHUP.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'EIO') throw error
  })
  const exitCode = await runCommand(spec, flags, env)
  // As oclif does: a failed command ends now, whatever it left open.
  // eslint-disable-next-line n/no-process-exit, unicorn/no-process-exit -- the exit code is the command's result
  if (exitCode !== EXIT.ok) process.exit(exitCode)
  return true
}
