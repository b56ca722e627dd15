import {dirname, resolve} from 'node:path'

import {type Expr, parseTokens} from './ruby-parse.js'

/**
 * Evaluates the expressions Puma configs pass to settings: literals, string interpolation, ENV lookups
 * with their literal defaults, local variables, simple conditions and File.join/expand_path. Anything
 * else is Unknown, with a reason made only of names (never of a literal's text, which may be a secret).
 */

export class Unknown {
  constructor(readonly why: string) {}
}

export interface RubySymbol {
  symbol: string
}

export interface RubyHash {
  pairs: Array<[Value, Value]>
}

export type Value = boolean | null | number | RubyHash | RubySymbol | string | Unknown

export interface EvalContext {
  /** The folder Ruby would run in: pumactl's working folder. */
  cwd: string
  env: Readonly<Record<string, string | undefined>>
  /** The config file's absolute path (`__FILE__`) and its real path (`__dir__` resolves symlinks). */
  file: string
  realFile: string
  scope: Map<string, Value>
}

export const isUnknown = (value: Value): value is Unknown => value instanceof Unknown
export const truthy = (value: Value): boolean => value !== null && value !== false
const isSymbol = (value: Value): value is RubySymbol => typeof value === 'object' && value !== null && 'symbol' in value
const isHash = (value: Value): value is RubyHash => typeof value === 'object' && value !== null && 'pairs' in value

/** Ruby's `to_s` for the values a config can build; undefined where it would not be a plain string. */
export function rubyString(value: Value): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  if (value === null) return ''
  if (typeof value === 'boolean') return String(value)
  if (isSymbol(value)) return value.symbol
  return undefined
}

/** Ruby's `Integer(value)`: strict, so `Integer("3 workers")` raises (undefined here). */
export function rubyInteger(value: Value): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : Math.trunc(value)
  if (typeof value !== 'string' || !/^\s*[+-]?\d+(_\d+)*\s*$/.test(value)) return undefined
  return Number.parseInt(value.replaceAll('_', ''), 10)
}

/** `hash[:key]` for symbol keys, as Puma reads options. */
export function hashGet(hash: RubyHash, key: string): Value {
  for (const [k, v] of hash.pairs) if (isSymbol(k) && k.symbol === key) return v
  return null
}

export {isHash}

export function evaluate(expr: Expr, ctx: EvalContext): Value {
  switch (expr.kind) {
    case 'and':
    case 'if':
    case 'not':
    case 'or': {
      return logic(expr, ctx)
    }

    case 'binary': {
      return binary(expr.op, evaluate(expr.left, ctx), evaluate(expr.right, ctx))
    }

    case 'call': {
      return call(expr, ctx)
    }

    case 'const': {
      return new Unknown(`uses ${expr.name}`)
    }

    case 'hash': {
      return {pairs: expr.pairs.map(([k, v]) => [evaluate(k, ctx), evaluate(v, ctx)])}
    }

    case 'literal': {
      return expr.value
    }

    case 'special': {
      if (expr.name === '__FILE__') return ctx.file
      if (expr.name === '__dir__') return dirname(ctx.realFile)
      return new Unknown('uses self')
    }

    case 'str': {
      return interpolate(expr.parts, ctx)
    }

    case 'sym': {
      return {symbol: expr.name}
    }

    case 'var': {
      // `has`, not `??`: a local may hold nil
      return ctx.scope.has(expr.name)
        ? ctx.scope.get(expr.name)!
        : new Unknown(`calls ${expr.name}, which it does not know`)
    }

    default: {
      return new Unknown(`uses ${expr.kind === 'opaque' ? `a ${expr.what}` : 'an array'} it cannot read`)
    }
  }
}

/** `and`, `or`, `not` and `? :`, with Ruby's truthiness: an unknown operand decides nothing. */
function logic(expr: Extract<Expr, {kind: 'and' | 'if' | 'not' | 'or'}>, ctx: EvalContext): Value {
  if (expr.kind === 'not') {
    const inner = evaluate(expr.expr, ctx)
    return isUnknown(inner) ? inner : !truthy(inner)
  }

  if (expr.kind === 'if') {
    const cond = evaluate(expr.cond, ctx)
    if (isUnknown(cond)) return cond
    return evaluate(truthy(cond) ? expr.whenTrue : expr.whenFalse, ctx)
  }

  const left = evaluate(expr.left, ctx)
  if (isUnknown(left)) return left
  return truthy(left) === (expr.kind === 'and') ? evaluate(expr.right, ctx) : left
}

function interpolate(parts: Array<Expr | string>, ctx: EvalContext): Value {
  let text = ''
  for (const part of parts) {
    if (typeof part === 'string') {
      text += part
      continue
    }

    const value = evaluate(part, ctx)
    if (isUnknown(value)) return value
    const piece = rubyString(value)
    if (piece === undefined) return new Unknown('interpolates a value it cannot print')
    text += piece
  }

  return text
}

function binary(op: string, left: Value, right: Value): Value {
  if (isUnknown(left)) return left
  if (isUnknown(right)) return right
  if (op === '==' || op === '!=') {
    const same = isSymbol(left) && isSymbol(right) ? left.symbol === right.symbol : left === right
    return op === '==' ? same : !same
  }

  if (op === '+' && typeof left === 'string' && typeof right === 'string') return left + right
  if (typeof left !== 'number' || typeof right !== 'number')
    return new Unknown(`uses ${op} on values it cannot compare`)
  switch (op) {
    case '*': {
      return left * right
    }

    case '+': {
      return left + right
    }

    case '-': {
      return left - right
    }

    case '<': {
      return left < right
    }

    case '<=': {
      return left <= right
    }

    case '>': {
      return left > right
    }

    case '>=': {
      return left >= right
    }

    default: {
      return new Unknown(`uses ${op}`)
    }
  }
}

function call(expr: Extract<Expr, {kind: 'call'}>, ctx: EvalContext): Value {
  const {name, recv} = expr
  if (!recv) return functionCall(expr, ctx)
  if (recv.kind === 'const' && recv.name === 'ENV') return envCall(expr, ctx)
  if (recv.kind === 'const' && (recv.name === 'File' || recv.name === 'Dir')) return fileCall(expr, ctx)
  if (recv.kind === 'const') return new Unknown(`calls ${recv.name}.${name}`)
  if (expr.block) return new Unknown(`calls ${name} with a block`)
  const value = evaluate(recv, ctx)
  if (isUnknown(value)) return value
  return method(value, name, expr.args.length)
}

function functionCall(expr: Extract<Expr, {kind: 'call'}>, ctx: EvalContext): Value {
  const [arg] = expr.args.map((a) => evaluate(a, ctx))
  if (expr.args.length === 1 && !expr.block && (expr.name === 'Integer' || expr.name === 'String')) {
    if (isUnknown(arg)) return arg
    const converted = expr.name === 'Integer' ? rubyInteger(arg) : rubyString(arg)
    return converted ?? new Unknown(`calls ${expr.name} on a value it would refuse`)
  }

  if (expr.args.length === 0 && !expr.block && ctx.scope.has(expr.name)) return ctx.scope.get(expr.name)!
  return new Unknown(`calls ${expr.name}, which it does not know`)
}

function envCall(expr: Extract<Expr, {kind: 'call'}>, ctx: EvalContext): Value {
  const args = expr.args.map((a) => evaluate(a, ctx))
  const key = args[0]
  if (isUnknown(key)) return key
  if (typeof key !== 'string') return new Unknown(`calls ENV.${expr.name} with a key it cannot read`)
  const value = ctx.env[key]
  switch (expr.name) {
    case '[]': {
      return value ?? null
    }

    case 'fetch': {
      if (value !== undefined) return value
      if (args.length > 1) return args[1]
      if (expr.block) return blockValue(expr.block, ctx)
      return new Unknown(`calls ENV.fetch("${key}") without a default and ${key} is unset`)
    }

    case 'has_key?':
    case 'include?':
    case 'key?':
    case 'member?': {
      return value !== undefined
    }

    default: {
      return new Unknown(`calls ENV.${expr.name}`)
    }
  }
}

/**
 * A default's block is a few tokens (`{ 3000 }`, `{ "tmp/pids/server.pid" }`). Each nested block is
 * parsed again from its tokens, so blocks nested thousands deep would take the reader minutes.
 */
const MAX_BLOCK_TOKENS = 200

/** A block's value, where the block is one expression (`ENV.fetch("PORT") { 3000 }`). */
function blockValue(tokens: Extract<Expr, {kind: 'call'}>['block'] & object, ctx: EvalContext): Value {
  if (tokens.length > MAX_BLOCK_TOKENS) return new Unknown('uses a block longer than it reads')
  if (tokens.some((token) => token.kind === 'op' && token.text === '|'))
    return new Unknown('uses a block with parameters')
  try {
    const body = parseTokens(tokens)
    if (body.length === 1 && body[0].kind === 'expr') return evaluate(body[0].expr, ctx)
  } catch {
    // an unreadable block is unknown, below
  }

  return new Unknown('uses a block it cannot read')
}

function fileCall(expr: Extract<Expr, {kind: 'call'}>, ctx: EvalContext): Value {
  const owner = (expr.recv as {name: string}).name
  const args = expr.args.map((a) => evaluate(a, ctx))
  const bad = args.find((a) => isUnknown(a) || typeof a !== 'string')
  const what = `${owner}.${expr.name}`
  if (bad !== undefined) return isUnknown(bad) ? bad : new Unknown(`calls ${what} with a value it cannot read`)
  const strings = args as string[]
  if (what === 'Dir.pwd' && strings.length === 0) return ctx.cwd
  if (what === 'File.join') return strings.join('/').replaceAll(/\/+/g, '/')
  if (what === 'File.dirname' && strings.length === 1) return dirname(strings[0])
  if (
    what === 'File.expand_path' &&
    strings.length > 0 &&
    strings.length <= 2 &&
    !strings.some((s) => s.startsWith('~'))
  ) {
    return resolve(ctx.cwd, strings[1] ?? '.', strings[0])
  }

  return new Unknown(`calls ${what}`)
}

function method(value: Value, name: string, argc: number): Value {
  const text = rubyString(value)
  if (argc > 0) return new Unknown(`calls ${name} on a value`)
  switch (name) {
    case 'freeze':
    case 'to_str': {
      return value
    }

    case 'nil?': {
      return value === null
    }

    case 'to_i': {
      if (typeof value === 'number') return Math.trunc(value)
      if (typeof value !== 'string') return value === null ? 0 : new Unknown('calls to_i on a value')
      return Number.parseInt(/^\s*[+-]?\d+/.exec(value.replaceAll('_', ''))?.[0] ?? '0', 10)
    }

    case 'to_s': {
      return text ?? new Unknown('calls to_s on a value it cannot print')
    }

    case 'to_sym': {
      return typeof value === 'string' ? {symbol: value} : new Unknown('calls to_sym on a value')
    }

    default: {
      if (typeof value !== 'string') return new Unknown(`calls ${name} on a value`)
      if (name === 'strip') return value.trim()
      if (name === 'empty?') return value === ''
      if (name === 'downcase') return value.toLowerCase()
      if (name === 'upcase') return value.toUpperCase()
      return new Unknown(`calls ${name} on a string`)
    }
  }
}
