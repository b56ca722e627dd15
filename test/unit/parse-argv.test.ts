import {Flags, Parser} from '@oclif/core'
import {strict as assert} from 'node:assert'

import {COMMAND_LOADERS} from '../../src/cli/commands.js'
import {fillFromEnvironment, type FlagSpecs} from '../../src/cli/flags.js'
import {parseArgv} from '../../src/cli/parse-argv.js'
import {COMMANDS} from '../../src/ctl.js'

/** argv to try against a command's flags: the usual forms, and the ones the fast path must leave to oclif. */
function corpus(flags: FlagSpecs): string[][] {
  const cases: string[][] = [
    [],
    ['--json'],
    ['--help'],
    ['-h'],
    ['--version'],
    ['positional'],
    ['--'],
    ['--unknown'],
    ['-x'],
    ['--json', '--json'],
    ['--json=true'],
    ['--no-json'],
  ]
  for (const [name, flag] of Object.entries(flags)) {
    const char = flag.char ? [`-${flag.char}`] : []
    switch (flag.kind) {
      case 'boolean': {
        cases.push(
          [`--${name}`],
          [`--no-${name}`],
          [`--${name}=true`],
          [`--${name}`, `--no-${name}`],
          [`--${name}`, 'x'],
        )
        if (flag.char) cases.push(char, [`-${flag.char}${flag.char}`])
        break
      }

      case 'integer': {
        for (const value of [
          '5',
          '0',
          '1',
          '007',
          '-3',
          'abc',
          '1e3',
          '2.5',
          '99999999',
          '2147483',
          '2147484',
          '99999999999',
        ])
          cases.push([`--${name}`, value], [`--${name}=${value}`])
        break
      }

      case 'option': {
        for (const value of [...flag.options, 'bogus', '']) cases.push([`--${name}`, value], [`--${name}=${value}`])
        break
      }

      case 'string': {
        cases.push(
          [`--${name}`, 'v'],
          [`--${name}=v`],
          [`--${name}=a=b`],
          [`--${name}`, 'has space'],
          [`--${name}`],
          [`--${name}=`],
          [`--${name}=-1`],
          [`--${name}`, '-1'],
          [`--${name}`, 'a', `--${name}`, 'b'],
          [`--${name}`, '--json'],
          [`--${name}`, 'v', '--json'],
          ['--json', `--${name}`, 'v'],
        )
        if (flag.char) cases.push([...char, 'v'], [`-${flag.char}v`], [`-${flag.char}=v`], [...char, 'v', '--json'])
        break
      }
    }
  }

  // Combinations: exclusive and dependent flags.
  const names = Object.keys(flags)
  for (const a of names)
    for (const b of names)
      if (a < b && flags[a].kind === 'string' && flags[b].kind === 'string') cases.push([`--${a}`, 'x', `--${b}`, 'y'])
  return cases
}

/** oclif leaves flags without a value out, or undefined: compare only what is set. */
const defined = (values: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined))

async function oclifParse(id: string, argv: string[]): Promise<Error | Record<string, unknown>> {
  const command = COMMANDS[id as keyof typeof COMMANDS]
  try {
    const {flags} = await Parser.parse(argv, {flags: {...command.flags, json: Flags.boolean()}, args: {}, strict: true})
    return flags
  } catch (error) {
    return error as Error
  }
}

describe('command-line flags without oclif', () => {
  describe('the fast path parses argv as oclif does', () => {
    for (const [id, load] of Object.entries(COMMAND_LOADERS)) {
      it(`${id}: every argv it accepts, oclif parses to the same flags`, async () => {
        const {flags} = (await load()).default
        const taken = corpus(flags).flatMap((argv) => {
          const fast = parseArgv(argv, flags)
          return fast === undefined ? [] : [{argv, fast}]
        })
        const parsed = await Promise.all(taken.map(({argv}) => oclifParse(id, argv)))
        let accepted = 0
        let checked = 0
        for (const [i, {argv, fast}] of taken.entries()) {
          const oclif = parsed[i]
          checked++
          assert.ok(
            !(oclif instanceof Error),
            `fast path accepted ${JSON.stringify(argv)} but oclif says: ${(oclif as Error).message}`,
          )
          // oclif's own --json has no default; jsonEnabled() makes it false.
          assert.deepEqual(
            defined(fast),
            {...defined(oclif), json: oclif.json ?? false},
            `argv ${JSON.stringify(argv)}`,
          )
          accepted++
        }

        assert.ok(checked > 10, `only ${checked} argv were accepted`)
        assert.equal(accepted, checked)
      })
    }

    it('takes the forms scripts use', () => {
      const restart = {
        pid: {kind: 'string', summary: 'x', char: 'p'},
        timeout: {kind: 'integer', summary: 'x', default: 300, min: 1},
        wait: {kind: 'boolean', summary: 'x', default: true, allowNo: true},
      } satisfies FlagSpecs
      assert.deepEqual(parseArgv(['--pid', '12', '--timeout=60', '--no-wait', '--json'], restart), {
        pid: '12',
        timeout: 60,
        wait: false,
        json: true,
        quiet: false,
      })
      assert.deepEqual(parseArgv(['-p', '12'], restart), {
        pid: '12',
        timeout: 300,
        wait: true,
        json: false,
        quiet: false,
      })
    })

    it('leaves help, unknown flags, bad values and conflicts to oclif', () => {
      const flags = {
        pid: {kind: 'string', summary: 'x', exclusive: ['dir']},
        dir: {kind: 'string', summary: 'x', exclusive: ['pid']},
        timeout: {kind: 'integer', summary: 'x', default: 3, min: 1},
      } satisfies FlagSpecs
      for (const argv of [
        ['--help'],
        ['--nope'],
        ['--pid'],
        ['--pid', '--dir', 'x'],
        ['--pid', '1', '--dir', 'x'],
        ['--timeout', '0'],
        ['--timeout', 'ten'],
        ['--pid', '1', '--pid', '2'],
        ['extra'],
        ['--', '--pid', '1'],
        ['--constructor', 'x'],
        ['--__proto__', 'x'],
      ]) {
        assert.equal(parseArgv(argv, flags), undefined, JSON.stringify(argv))
      }
    })
  })

  describe('fillFromEnvironment', () => {
    const flags = {
      'control-token': {kind: 'string', summary: 'x', env: 'TOKEN'},
      pid: {kind: 'string', summary: 'x'},
    } satisfies FlagSpecs

    it('fills a flag not given from its variable; a given flag or an empty variable leaves it', () => {
      assert.equal(
        fillFromEnvironment(
          flags,
          {'control-token': undefined, pid: undefined, json: false, quiet: false},
          {TOKEN: 'env'},
        )['control-token'],
        'env',
      )
      assert.equal(
        fillFromEnvironment(
          flags,
          {'control-token': 'argv', pid: undefined, json: false, quiet: false},
          {TOKEN: 'env'},
        )['control-token'],
        'argv',
      )
      assert.equal(
        fillFromEnvironment(
          flags,
          {'control-token': undefined, pid: undefined, json: false, quiet: false},
          {TOKEN: ''},
        )['control-token'],
        undefined,
      )
      assert.equal(
        fillFromEnvironment(flags, {'control-token': undefined, pid: undefined, json: false, quiet: false}, {pid: '12'})
          .pid,
        undefined,
      )
    })
  })
})
