import {strict as assert} from 'node:assert'

import {COMMANDS} from '../../src/ctl.js'

/** oclif's examples are strings or {command, description}; `<%= config.bin %>` becomes `ctl`. */
type Example = string | {command: string; description?: string}
const commandOf = (example: Example) => (typeof example === 'string' ? example : example.command)

/** `<%= config.bin %> gc` and `<%= config.bin %> gc --json`, but not `<%= config.bin %> gc-stats`. */
const runsCommand = (id: string) => (example: Example) =>
  new RegExp(`^<%= config\\.bin %> ${id}(\\s|$)`).test(commandOf(example))

describe('--help of every command', () => {
  const entries = Object.entries(COMMANDS)

  it('covers the commands', () => {
    assert.ok(entries.length > 0)
  })

  for (const [id, command] of entries) {
    it(`${id}: summary, description, and an example of \`ctl ${id}\``, () => {
      const {summary, description} = command as {description?: string; summary?: string}
      const examples = (command.examples ?? []) as Example[]
      assert.ok(typeof summary === 'string' && summary.trim() !== '', `${id} has no summary`)
      assert.ok(typeof description === 'string' && description.trim() !== '', `${id} has no description`)
      assert.ok(
        examples.some(runsCommand(id)),
        `${id} has no example starting with \`<%= config.bin %> ${id}\`: ${JSON.stringify(examples)}`,
      )
    })
  }
})
