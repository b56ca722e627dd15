import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The project root, found from the compiled test file's location (.test-build/test/...). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir)
  return dir
}

export const projectRoot = findRoot()
export const fixturesDir = join(projectRoot, 'test', 'fixtures')
export const binRun = join(projectRoot, 'bin', 'run.js')
