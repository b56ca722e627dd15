import {strict as assert} from 'node:assert'

import {COMMAND_LOADERS} from '../../src/cli/commands.js'
import {controlFlags, selectorOf, targetFlags} from '../../src/cli/flags.js'
import {parseArgv} from '../../src/cli/parse-argv.js'
import {MASTER_KEYS, namesMaster, type TargetSelector} from '../../src/target/index.js'

/** Each target and control flag, and the selector key it becomes. */
const KEY_OF_FLAG: Record<string, keyof TargetSelector> = {
  pid: 'pid',
  pidfile: 'pidfile',
  state: 'state',
  dir: 'dir',
  tag: 'tag',
  'config-file': 'configFile',
  environment: 'environment',
  'control-url': 'controlUrl',
  'control-token': 'controlToken',
}

/** The selector's defined entries: what the flags set. */
const defined = (selector: TargetSelector) =>
  Object.fromEntries(Object.entries(selector).filter(([, value]) => value !== undefined))

describe('target selector: the one model of "which master"', () => {
  it('selectorOf maps every target and control flag to its key, and nothing else', () => {
    assert.deepEqual(
      Object.keys(KEY_OF_FLAG).sort(),
      [...Object.keys(targetFlags), ...Object.keys(controlFlags)].sort(),
    )
    for (const [flag, key] of Object.entries(KEY_OF_FLAG))
      assert.deepEqual(defined(selectorOf({[flag]: 'x'})), {[key]: 'x'}, flag)
  })

  for (const [id, load] of Object.entries(COMMAND_LOADERS)) {
    it(`${id}: its parsed target (and control) flags become the selector`, async () => {
      const {flags} = (await load()).default
      // One master flag (they exclude each other), and the control flags where the command has them.
      const given = ['pidfile', 'control-url', 'control-token'].filter((flag) => Object.hasOwn(flags, flag))
      const parsed = parseArgv(
        given.flatMap((flag) => [`--${flag}`, `v-${flag}`]),
        flags,
      )
      assert.ok(parsed, `the fast path parses ${given.join(', ')}`)
      assert.deepEqual(
        defined(selectorOf(parsed as Record<string, string>)),
        Object.fromEntries(given.map((flag) => [KEY_OF_FLAG[flag], `v-${flag}`])),
      )
    })
  }

  it('the flags that name the master itself exclude each other as the keys do (--dir and --tag combine)', () => {
    // -F and -e name a config to read, whose files then name the master: they combine with the rest.
    const config = ['config-file', 'environment']
    assert.deepEqual([...MASTER_KEYS, ...config].sort(), Object.keys(targetFlags).sort())
    for (const flag of config)
      assert.equal((targetFlags as Record<string, {exclusive?: string[]}>)[flag].exclusive, undefined)
    assert.deepEqual(targetFlags.dir.exclusive, ['pid', 'pidfile', 'state'])
    assert.deepEqual(targetFlags.pid.exclusive, ['pidfile', 'state', 'dir', 'tag'])
  })

  it('namesMaster: any master key with a value, a PID of 0 included; a control URL alone does not', () => {
    assert.equal(namesMaster({}), false)
    assert.equal(namesMaster({controlUrl: 'tcp://127.0.0.1:9293', controlToken: 't', cwd: '/'}), false)
    assert.equal(namesMaster({pidfile: ''}), false)
    assert.equal(namesMaster({pid: 0}), true)
    // An untyped caller's null (a JSON config) names nothing: it must not turn a control URL into a scan.
    for (const key of ['pidfile', 'state', 'dir', 'tag'] as const)
      assert.equal(namesMaster({[key]: null as never, controlUrl: 'tcp://127.0.0.1:9293'}), false, key)
    for (const key of MASTER_KEYS) assert.equal(namesMaster({[key]: 'x'}), true, key)
  })
})
