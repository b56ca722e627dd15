import {Command, Flags, Interfaces} from '@oclif/core'

import {EXIT, usageError} from '../errors.js'
import {firstLine, renderError} from '../render/error.js'
import {type CommandSpec} from './command.js'
import {type FlagSpec, type FlagSpecs, type FlagValues, QUIET_FLAG} from './flags.js'
import {runCommand} from './run-command.js'

type Char = Interfaces.AlphabetLowercase | Interfaces.AlphabetUppercase

function oclifFlag(flag: FlagSpec) {
  const common = {
    summary: flag.summary,
    char: flag.char as Char | undefined,
    helpGroup: flag.helpGroup,
    exclusive: flag.exclusive,
    dependsOn: flag.dependsOn,
  }
  switch (flag.kind) {
    case 'boolean': {
      return Flags.boolean({...common, default: flag.default, allowNo: flag.allowNo})
    }

    case 'integer': {
      return Flags.integer({...common, default: flag.default, min: flag.min, max: flag.max})
    }

    case 'option': {
      return Flags.option({...common, options: flag.options})()
    }

    case 'string': {
      // Not oclif's env option: runCommand fills environment values in after parsing, for both paths.
      return Flags.string(common)
    }
  }
}

/** An oclif command class for a spec: oclif gives it --help, the manifest entry, completion and its parser. */
export function oclifCommand<F extends FlagSpecs>(id: string, spec: CommandSpec<F>): typeof Command {
  return class extends Command {
    static description = spec.description
    static enableJsonFlag = true
    static examples = spec.examples
    static flags = Object.fromEntries(
      Object.entries({...spec.flags, quiet: QUIET_FLAG}).map(([name, flag]) => [name, oclifFlag(flag)]),
    )
    // Arguments after `--` are a passThrough command's (run() refuses any other).
    static strict = spec.passThrough === undefined
    static summary = spec.summary
    static usage = spec.passThrough === undefined ? undefined : `${id} [FLAGS] [-- ${spec.passThrough}]`

    /** What reaches here is oclif's parser's (runCommand renders the command's own errors): a usage error. */
    async catch(error: Error & {code?: string}): Promise<never> {
      if (error.code === 'EEXIT') throw error // this.exit() in run(): already decided
      this.exit(
        await renderError(usageError(firstLine(error.message), {suggestion: `see ctl ${id} --help`}), {
          json: this.jsonEnabled(),
        }),
      )
    }

    async run(): Promise<void> {
      const {argv, flags} = await this.parse(this.constructor as typeof Command)
      const end = this.argv.indexOf('--')
      const passThrough = end === -1 ? [] : this.argv.slice(end + 1)
      if (argv.length > passThrough.length)
        throw usageError(`unexpected argument ${String(argv[0])}: put what is meant for Puma after --`)
      const exitCode = await runCommand(
        spec,
        {...flags, json: this.jsonEnabled()} as FlagValues<F>,
        process.env,
        passThrough,
      )
      if (exitCode !== EXIT.ok) this.exit(exitCode)
    }
  }
}
