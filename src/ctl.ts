// oclif's entry, bundled into dist/ctl.js with @oclif/core: --help, completion, and every
// invocation the fast path (cli/fast-path.ts) leaves to oclif.
import {COMMAND_LOADERS} from './cli/commands.js'
import {oclifCommand} from './cli/oclif.js'

export {execute} from '@oclif/core'

/** oclif's "explicit" command discovery (package.json oclif.commands) reads this map. */
export const COMMANDS = Object.fromEntries(
  await Promise.all(
    Object.entries(COMMAND_LOADERS).map(async ([id, load]) => [id, oclifCommand(id, (await load()).default)] as const),
  ),
)
