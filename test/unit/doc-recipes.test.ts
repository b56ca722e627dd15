import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {localised, recipe, recipeIn} from '../helpers/doc-recipes.js'

/** The recipe extractor the deploy-recipe tests take docs/deploy.md's code through (issue 15). */
describe('doc recipes', () => {
  const doc = [
    '# Deploying',
    '<!-- recipe: one -->',
    '',
    '```yaml',
    'a: 1',
    '',
    '  b: 2',
    '```',
    'text',
    '<!-- recipe: long-fence -->',
    '````markdown',
    '```',
    'inner',
    '```',
    '````',
    '<!-- recipe: prose -->',
    'not code',
    '<!-- recipe: open -->',
    '```sh',
    'echo',
  ].join('\n')

  it('returns the fenced block after the marker, exactly, with a final newline', () => {
    assert.equal(recipeIn(doc, 'one'), 'a: 1\n\n  b: 2\n')
  })

  it('ends a block only at a fence as long as the opening one', () => {
    assert.equal(recipeIn(doc, 'long-fence'), '```\ninner\n```\n')
  })

  it('throws naming the marker when the marker is missing, or not followed by a closed block', () => {
    assert.throws(() => recipeIn(doc, 'two'), /no "<!-- recipe: two -->" in the document/)
    assert.throws(() => recipeIn(doc, 'prose'), /"<!-- recipe: prose -->" .*not followed by a fenced code block/)
    assert.throws(() => recipeIn(doc, 'open'), /after "<!-- recipe: open -->" .*not closed/)
    assert.throws(() => recipeIn(`${doc}\n<!-- recipe: one -->\n`, 'one'), /appears twice/)
  })

  it('reads docs/deploy.md, naming the file when a marker is missing', () => {
    assert.match(recipe('puma.rb'), /^directory '\/srv\/app\/current'/)
    assert.throws(() => recipe('no-such-recipe'), /no "<!-- recipe: no-such-recipe -->" in .*docs\/deploy\.md/)
  })

  it("Capistrano's rollback record: ctl's error line reaches revisions.log as text, never run by the remote shell", function () {
    if (spawnSync('ruby', ['-v']).status !== 0) this.skip()
    const lines = recipe('capistrano-puma.rake').split('\n')
    const from = lines.findIndex((line) => line.includes('failed: #{outcome}'))
    const to = lines.findIndex((line, index) => index >= from && line.includes('>>'))
    assert.ok(from !== -1 && to !== -1, 'the recipe records its outcome in revisions.log')
    const dir = mkdtempSync(join(tmpdir(), 'ctl-cap-record-'))
    try {
      const log = join(dir, 'revisions log')
      const ran = join(dir, 'ran')
      // Ruby's error messages quote with a backtick; an app's message may hold anything.
      const outcome = `NOT rolled back to release 1: Error: undefined method \`x' for nil "$(touch '${ran}')"`
      const script = [
        "require 'shellwords'",
        "def fetch(key) = {release_timestamp: '20261129201530', current_revision: '3f2a'}.fetch(key)",
        // SSHKit's execute: its arguments joined by spaces, run by the remote shell.
        "def execute(*args) = system('sh', '-c', args.join(' ')) || raise('the shell failed')",
        `revision_log = ${JSON.stringify(log)}`,
        `outcome = ${JSON.stringify(outcome)}`,
        ...lines.slice(from, to + 1),
      ].join('\n')
      const result = spawnSync('ruby', ['-e', script], {encoding: 'utf8'})
      assert.equal(result.status, 0, result.stderr)
      assert.equal(readFileSync(log, 'utf8'), `Release 20261129201530 (3f2a) failed: ${outcome}\n`)
      assert.ok(!existsSync(ran), 'nothing in the message was run')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  describe('send everywhere, then wait on each: ctl’s exit codes reach the caller', () => {
    let dir: string

    /** The recipe with `ssh` run locally and a `ctl` that fails as told; its exit code and output. */
    function fleet(fail: {send?: string; wait?: string}): {code: null | number; output: string} {
      const bin = join(dir, 'bin')
      mkdirSync(bin, {recursive: true})
      // ssh joins its arguments into one command for the remote shell; the host is the ctl's to know.
      writeFileSync(
        join(bin, 'ssh'),
        '#!/bin/sh\nhost=$(echo "$1" | cut -d@ -f2); shift\nCTL_HOST=$host exec sh -c "$*"\n',
      )
      writeFileSync(
        join(bin, 'ctl'),
        [
          '#!/bin/sh',
          'echo "$CTL_HOST $*" >> calls',
          'case "$1" in',
          `  phased-restart) [ "$CTL_HOST" = "${fail.send}" ] && { echo '{"error":{"message":"not permitted"}}'; exit 4; }`,
          `    echo '{"resume":"v1.token-'$CTL_HOST'"}' ;;`,
          `  wait) [ "$CTL_HOST" = "${fail.wait}" ] && exit 5 ;;`,
          'esac',
          'exit 0',
          '',
        ].join('\n'),
      )
      for (const tool of ['ssh', 'ctl']) chmodSync(join(bin, tool), 0o755)
      const result = spawnSync('bash', ['-c', recipe('send-then-wait')], {
        cwd: dir,
        encoding: 'utf8',
        env: {...process.env, PATH: `${bin}:${process.env.PATH}`},
      })
      return {code: result.status, output: result.stdout + result.stderr}
    }

    const calls = () => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n')

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'ctl-fleet-'))
    })

    afterEach(() => rmSync(dir, {recursive: true, force: true}))

    it('every host good: exit 0, each waited on with its own token', function () {
      if (spawnSync('jq', ['--version']).status !== 0) this.skip()
      const {code, output} = fleet({})
      assert.equal(code, 0, output)
      assert.equal(calls().filter((call) => / wait .*--since v1\.token-(app\d)\.example\.com/.test(call)).length, 3)
    })

    it('a host whose restart fails: the recipe exits with its code (5), after waiting on the others too', function () {
      if (spawnSync('jq', ['--version']).status !== 0) this.skip()
      const {code, output} = fleet({wait: 'app2.example.com'})
      assert.equal(code, 5, output)
      assert.match(output, /app2\.example\.com failed: exit 5/)
      assert.equal(calls().filter((call) => call.includes(' wait ')).length, 3)
    })

    it('a host where ctl sends nothing (exit 4): the recipe stops with 4 before any wait', function () {
      if (spawnSync('jq', ['--version']).status !== 0) this.skip()
      const {code, output} = fleet({send: 'app2.example.com'})
      assert.equal(code, 4, output)
      assert.ok(!calls().some((call) => call.includes(' wait ')), calls().join('\n'))
    })
  })

  it('localises the deploy root and the port, and nothing else', () => {
    const text = "directory '/srv/app/current'\nbind 'tcp://127.0.0.1:3000'\n/srv/application 30001 13000 /srv/app\n"
    assert.equal(
      localised(text, {port: 41_234, root: '/tmp/deploy-1'}),
      "directory '/tmp/deploy-1/current'\nbind 'tcp://127.0.0.1:41234'\n/srv/application 30001 13000 /tmp/deploy-1\n",
    )
  })
})
