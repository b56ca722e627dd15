import {type FlagSpecs, type FlagValues, JSON_FLAG} from './flags.js'

/**
 * Parses a command's argv as oclif would, for the forms scripts and people type: `--name value`,
 * `--name=value`, `-c value`, `--flag`, `--no-flag`. Anything else (help, unknown or repeated
 * flags, attached short values, values that look like flags, invalid values, conflicting flags)
 * gives undefined: oclif then parses it and explains what is wrong. A test holds it to oclif's
 * results.
 */
export function parseArgv<F extends FlagSpecs>(argv: string[], specs: F): FlagValues<F> | undefined {
  const all: FlagSpecs = {...specs, json: JSON_FLAG}
  const given = new Map<string, boolean | string>()
  for (let i = 0; i < argv.length; i++) {
    const token = readToken(argv[i], all)
    if (!token || given.has(token.name)) return undefined
    const spec = all[token.name]
    if (spec.kind === 'boolean') {
      if (token.inline !== undefined) return undefined
      given.set(token.name, !token.negated)
      continue
    }

    const value = token.inline ?? argv[++i]
    if (value === undefined || value === '' || value.startsWith('-')) return undefined
    given.set(token.name, value)
  }

  const values: Record<string, boolean | number | string | undefined> = {}
  for (const [name, spec] of Object.entries(all)) {
    const raw = given.get(name)
    switch (spec.kind) {
      case 'boolean': {
        values[name] = typeof raw === 'boolean' ? raw : spec.default
        break
      }

      case 'integer': {
        if (raw !== undefined && (!/^\d+$/.test(String(raw)) || Number(raw) < (spec.min ?? 0))) return undefined
        values[name] = raw === undefined ? spec.default : Number(raw)
        break
      }

      case 'option': {
        if (raw !== undefined && !spec.options.includes(String(raw))) return undefined
        values[name] = raw as string | undefined
        break
      }

      case 'string': {
        values[name] = raw as string | undefined
      }
    }
  }

  for (const [name, spec] of Object.entries(all)) {
    if (!given.has(name)) continue
    if (spec.exclusive?.some((other) => given.has(other))) return undefined
    if (spec.dependsOn?.some((other) => values[other] === undefined)) return undefined
  }

  return values as FlagValues<F>
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
