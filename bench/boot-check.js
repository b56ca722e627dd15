#!/usr/bin/env node
// The boot check's cost (figures in BENCHMARKS.md): the wall time of the check alone, as ctl runs it
// before a hot restart, on examples/app with its own puma.rb, for app load times of 0 s (ctl's
// overhead: Ruby, Puma and the config), 1 s (the demo's default) and 5 s (a Rails-sized load), on
// Debian's Puma 5.6.5 and, when built, Puma 8.0.2. Usage: node bench/boot-check.js [RUNS]
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {runBootCheck} from '../dist/restart/boot-check.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const app = join(root, 'examples', 'app')
const runs = Number(process.argv[2] ?? 5)
const runDir = mkdtempSync(join(tmpdir(), 'ctl-bench-check-'))
const puma8 = join(homedir(), '.cache', 'real-puma', '8.0.2', 'src', 'lib')
const pumas = [['5.6.5', undefined], ...(existsSync(puma8) ? [['8.0.2', puma8]] : [])]

const seconds = (ms) => (ms / 1000).toFixed(2)
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
console.log('| Puma | app load (APP_BOOT_SECONDS) | check, median (min–max) of ' + runs + ' |')
console.log('|---|---|---|')
async function timeChecks(plan) {
  const times = []
  for (let i = 0; i < runs; i++) {
    // eslint-disable-next-line no-await-in-loop -- one at a time: the cost of one check
    const result = await runBootCheck(plan, {configFile: join(app, 'puma.rb'), timeoutMs: 60_000})
    if (!result.ok) throw new Error(`the check failed: ${result.error}`)
    times.push(result.durationMs)
  }

  return times
}

try {
  for (const [version, pumaLib] of pumas) {
    for (const boot of ['0', '1', '5']) {
      const plan = {
        env: {...process.env, APP_BOOT_SECONDS: boot, PUMA_RUN_DIR: runDir, PWD: app},
        folder: app,
        pumaLib,
        ruby: 'ruby',
        runAs: {kind: 'self'},
        warnings: [],
      }
      // eslint-disable-next-line no-await-in-loop -- one setting after the other
      const times = await timeChecks(plan)
      const range = `${seconds(Math.min(...times))}–${seconds(Math.max(...times))}`
      console.log(`| ${version} | ${boot} s | ${seconds(median(times))} s (${range}) |`)
    }
  }
} finally {
  rmSync(runDir, {recursive: true, force: true})
}
