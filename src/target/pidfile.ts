import {parsePid} from './pid.js'
import {readTargetFile} from './state-file.js'

/** `shown` is the path as the user gave it, for messages. */
export async function readPidfile(path: string, shown = path): Promise<number> {
  return parsePid(await readTargetFile(path, `pidfile ${shown}`), `pidfile ${shown}`)
}
