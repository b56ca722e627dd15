#!/usr/bin/env node
// Commands run on the fast path, without oclif (tens of milliseconds sooner); --help, completion
// and anything it does not parse go to oclif.
import {createRequire} from 'node:module'

let left
try {
  const {runFast} = createRequire(import.meta.url)('../dist/fast.cjs')
  left = await runFast(process.argv.slice(2))
} catch (error) {
  // Commands render their own errors; this is ctl itself failing (a bug, or dist/ not built).
  const text = error instanceof Error ? (process.env.DEBUG ? error.stack : error.message) : String(error)
  process.stderr.write(`Error: ${text}\n`)
  // eslint-disable-next-line n/no-process-exit -- the CLI's entry point: exit 1 is its documented answer to its own failure
  process.exit(1)
}

// What the fast path left to oclif, in ctl's grammar (pumactl's options before the command moved after it).
if (left !== true) {
  const {execute} = await import('../dist/ctl.js')
  await execute({args: left, dir: import.meta.url})
}
