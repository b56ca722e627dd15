#!/usr/bin/env node
// Commands run on the fast path, without oclif (tens of milliseconds sooner); --help, completion
// and anything it does not parse go to oclif.
import {createRequire} from 'node:module'

const {runFast} = createRequire(import.meta.url)('../dist/fast.cjs')
if (!(await runFast(process.argv.slice(2)))) {
  const {execute} = await import('../dist/ctl.js')
  await execute({dir: import.meta.url})
}
