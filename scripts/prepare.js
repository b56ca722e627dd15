#!/usr/bin/env node
// npm's prepare: builds dist/. `npm install -g .` on a fresh clone runs it before any dependency is
// installed here, so the build tools are installed first when missing: by a plain `npm ci` of this
// folder, without the global install's settings (npm_config_global, its prefix) it inherits.
import {execSync} from 'node:child_process'
import {existsSync} from 'node:fs'

const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^npm_config_(global|prefix|location)$/i.test(name)),
)
if (!existsSync('node_modules/.bin/tsc'))
  execSync('npm ci --ignore-scripts --no-audit --no-fund', {stdio: 'inherit', env})
execSync('npm run build', {stdio: 'inherit'})
