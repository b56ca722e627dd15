import {strict as assert} from 'node:assert'

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

  it('localises the deploy root and the port, and nothing else', () => {
    const text = "directory '/srv/app/current'\nbind 'tcp://127.0.0.1:3000'\n/srv/application 30001 13000 /srv/app\n"
    assert.equal(
      localised(text, {port: 41_234, root: '/tmp/deploy-1'}),
      "directory '/tmp/deploy-1/current'\nbind 'tcp://127.0.0.1:41234'\n/srv/application 30001 13000 /tmp/deploy-1\n",
    )
  })
})
