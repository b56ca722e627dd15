#!/usr/bin/env node
// Bundles the CLI after tsc: loading one file instead of hundreds of modules is most of a Node
// CLI's start-up. dist/ctl.js is oclif with every command (help, completion, the fallback).
// dist/fast.cjs is the fast path without oclif: CommonJS, because Node's require loads one file
// sooner than an ES module graph; each command's code runs only when that command does.
import {build} from 'esbuild'

const shared = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  logLevel: 'warning',
  // Loaded only when used (colour on a terminal, the spinner, journalctl, the ps fallback).
  external: ['chalk', 'ora', 'ps-list', 'execa', 'typescript', 'ts-node', 'tsx'],
}

await build({
  ...shared,
  entryPoints: ['src/ctl.ts'],
  outfile: 'dist/ctl.js',
  format: 'esm',
  // oclif and its dependencies are CommonJS and call require().
  banner: {
    js: "import {createRequire as __ctlRequire} from 'node:module'; const require = __ctlRequire(import.meta.url);",
  },
})
await build({...shared, entryPoints: ['src/cli/fast-path.ts'], outfile: 'dist/fast.cjs', format: 'cjs'})
