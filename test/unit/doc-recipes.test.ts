import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
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

  it('localises the deploy root and the port, and nothing else', () => {
    const text = "directory '/srv/app/current'\nbind 'tcp://127.0.0.1:3000'\n/srv/application 30001 13000 /srv/app\n"
    assert.equal(
      localised(text, {port: 41_234, root: '/tmp/deploy-1'}),
      "directory '/tmp/deploy-1/current'\nbind 'tcp://127.0.0.1:41234'\n/srv/application 30001 13000 /tmp/deploy-1\n",
    )
  })
})
