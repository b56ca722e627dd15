import {type Terminal} from '../cli/command.js'
import {ndjsonView} from './restart-ndjson.js'
import {type RestartView, restartView, viewMode} from './restart.js'

/**
 * What a command that follows Puma shows: --ndjson's event stream on stdout, else progress on
 * stderr (a spinner on a terminal, plain lines off it, nothing with --json or --quiet).
 */
export async function followingView(
  flags: {ndjson: boolean; quiet: boolean},
  {json, terminal}: {json: boolean; terminal: Terminal},
): Promise<RestartView> {
  if (flags.ndjson) return ndjsonView(terminal.stdout)
  return restartView(viewMode({json, quiet: flags.quiet}, terminal.stderr), terminal.stderr, terminal.env)
}
