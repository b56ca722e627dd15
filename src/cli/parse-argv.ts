import {type FlagSpec, type FlagSpecs, type FlagValues, GLOBAL_FLAGS} from './flags.js'

/**
 * Parses a command's argv as oclif would, for the forms scripts and people type: `--name value`,
 * `--name=value`, `-c value`, `--flag`, `--no-flag`. Anything else (help, unknown or repeated
 * flags, attached short values, values that look like flags, invalid values, conflicting flags)
 * gives undefined: oclif then parses it and explains what is wrong. A test holds it to oclif's
 * results.
 */
export function parseArgv<F extends FlagSpecs>(argv: string[], specs: F): FlagValues<F> | undefined {
  const all: FlagSpecs = {...specs, ...GLOBAL_FLAGS}
  const given = readGiven(argv, all)
  const values = given && valuesOf(all, given)
  if (!values || conflicts(all, given, values)) return undefined
  return values as FlagValues<F>
}

type Given = Map<string, boolean | string>
type Value = boolean | number | string | undefined

/** The flags argv gives, by name; undefined for anything left to oclif. */
function readGiven(argv: string[], specs: FlagSpecs): Given | undefined {
  const given: Given = new Map()
  for (let i = 0; i < argv.length; i++) {
    const token = readToken(argv[i], specs)
    if (!token || given.has(token.name)) return undefined
    if (specs[token.name].kind === 'boolean') {
      if (token.inline !== undefined) return undefined
      given.set(token.name, !token.negated)
      continue
    }

    const value = token.inline ?? argv[++i]
    if (value === undefined || value === '' || value.startsWith('-')) return undefined
    given.set(token.name, value)
  }

  return given
}

/** Every flag's value, given or its default; undefined when a given value is invalid. */
function valuesOf(specs: FlagSpecs, given: Given): Record<string, Value> | undefined {
  const values: Record<string, Value> = {}
  for (const [name, spec] of Object.entries(specs)) {
    const value = valueOf(spec, given.get(name))
    if (value === INVALID) return undefined
    values[name] = value
  }

  return values
}

const INVALID = Symbol('invalid')

function valueOf(spec: FlagSpec, raw: boolean | string | undefined): typeof INVALID | Value {
  switch (spec.kind) {
    case 'boolean': {
      return typeof raw === 'boolean' ? raw : spec.default
    }

    case 'integer': {
      if (raw === undefined) return spec.default
      const value = Number(raw)
      return /^\d+$/.test(String(raw)) && value >= (spec.min ?? 0) && value <= (spec.max ?? Infinity) ? value : INVALID
    }

    case 'option': {
      return raw === undefined || spec.options.includes(String(raw)) ? (raw as string | undefined) : INVALID
    }

    case 'string': {
      return raw as string | undefined
    }
  }
}

/** A given flag excluded by another given one, or missing one it depends on. */
function conflicts(specs: FlagSpecs, given: Given, values: Record<string, Value>): boolean {
  return [...given.keys()].some(
    (name) =>
      specs[name].exclusive?.some((other) => given.has(other)) ||
      specs[name].dependsOn?.some((other) => values[other] === undefined),
  )
}

function readToken(arg: string, specs: FlagSpecs): undefined | {inline?: string; name: string; negated?: boolean} {
  if (/^-[A-Za-z]$/.test(arg)) {
    const name = Object.keys(specs).find((key) => specs[key].char === arg[1])
    return name ? {name} : undefined
  }

  if (!arg.startsWith('--') || arg === '--') return undefined
  const equals = arg.indexOf('=')
  const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals)
  const inline = equals === -1 ? undefined : arg.slice(equals + 1)
  if (Object.hasOwn(specs, name)) return {name, inline}
  const negated = name.startsWith('no-') ? specs[name.slice(3)] : undefined
  if (negated?.kind === 'boolean' && negated.allowNo && inline === undefined)
    return {name: name.slice(3), negated: true}
  return undefined
}
