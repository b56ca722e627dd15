import {CONFIG_SETTINGS, type ConfigSetting, type ConfigValues, settingValue, type Slot, SLOT} from './config-dsl.js'
import {type EvalContext, evaluate, isHash, isUnknown, truthy, Unknown} from './ruby-eval.js'
import {LexError, type Token} from './ruby-lexer.js'
import {type Expr, ParseError, parseRuby, type Stmt} from './ruby-parse.js'

/**
 * The static reading of a Puma config: walks the statements in order as Puma's DSL would run them
 * (the last unconditional setting wins, `bind`/`port` append), evaluating what it can and naming, in
 * `unresolved`, every setting it saw but could not evaluate. It never runs anything.
 */

const SETTINGS = new Set<string>(CONFIG_SETTINGS)

/** Puma's hooks: their blocks run later, in the server, not while the config is read. */
const HOOK = /^(after|before|on)_|^(app|lowlevel_error_handler|out_of_band)$/

/** Calls that can run any code in the DSL's context: after one, nothing the file sets is certain. */
const EVALUATING = new Set([
  '_load_from',
  'class_eval',
  'eval',
  'instance_eval',
  'instance_exec',
  'public_send',
  'send',
])

export interface StaticSettings extends ConfigValues {
  reasons: UnresolvedReason[]
}

export interface UnresolvedReason {
  line: number
  setting: ConfigSetting
  /** Made of names and line numbers only, never of a literal's text. */
  why: string
}

export interface StaticOptions {
  /** The host `port` binds to without one: '0.0.0.0' before Puma 8, '[::]' on 8 where IPv6 is up. */
  defaultHost?: string
}

export function readStaticConfig(source: string, ctx: EvalContext, options: StaticOptions = {}): StaticSettings {
  let program: Stmt[]
  try {
    program = parseRuby(source)
  } catch (error) {
    if (error instanceof RangeError) return unreadable(source, TOO_DEEP)
    if (!(error instanceof LexError || error instanceof ParseError)) throw error
    return unreadable(source, 'the file has Ruby the static reader cannot parse')
  }

  const walker = new Walker(ctx, options.defaultHost ?? '0.0.0.0')
  try {
    walker.run(program)
  } catch (error) {
    if (error instanceof RangeError) return unreadable(source, TOO_DEEP)
    throw error
  }

  return walker.result()
}

/**
 * The lexer, parser and evaluator recurse, and a string can double at each line: a file nested
 * thousands deep (`((((…`, `"#{"#{…}"}"`) or building a string past V8's limit ends in a RangeError.
 * Such a file is not a real config; it must not crash ctl either.
 */
const TOO_DEEP = 'the file nests deeper, or builds longer strings, than the static reader follows'

/** A file the reader cannot follow: every setting it names is unresolved. */
function unreadable(source: string, why: string): StaticSettings {
  const reasons: UnresolvedReason[] = []
  for (const [index, text] of source.split('\n').entries()) {
    const match = /^\s*([a-z_]+!?)/.exec(text)
    if (match && SETTINGS.has(match[1])) reasons.push({line: index + 1, setting: match[1] as ConfigSetting, why})
  }

  return {reasons}
}

class Walker {
  private defaultHost: string
  private readonly methods = new Map<string, Array<{setting: ConfigSetting}>>()
  private readonly settings: Omit<StaticSettings, 'reasons'> = {}
  private readonly unknown = new Map<Slot, UnresolvedReason>()

  constructor(
    private readonly ctx: EvalContext,
    defaultHost: string,
  ) {
    this.defaultHost = defaultHost
  }

  result(): StaticSettings {
    const reasons = [...this.unknown.values()]
    const settings: StaticSettings = {...this.settings, reasons}
    for (const slot of this.unknown.keys()) delete settings[slot]
    return settings
  }

  run(body: Stmt[]): void {
    for (const stmt of body) this.statement(stmt)
  }

  private apply(expr: Extract<Expr, {kind: 'call'}>, setting: ConfigSetting): void {
    const args = expr.args.map((arg) => evaluate(arg, this.ctx))
    const unknown =
      args.find((arg) => isUnknown(arg)) ??
      (args.some((arg) => isHash(arg) && arg.pairs.some(([, v]) => isUnknown(v)))
        ? new Unknown('passes an option it cannot read')
        : undefined)
    if (unknown) return this.unresolved(setting, expr.line, (unknown as Unknown).why)
    const slot = SLOT.get(setting)!
    const value = settingValue(setting, args, this.defaultHost)
    if (value instanceof Unknown) return this.unresolved(setting, expr.line, value.why)
    if (setting === 'set_default_host') {
      this.defaultHost = value as string
      return
    }

    if (slot === 'binds') {
      if (!this.unknown.has('binds')) this.settings.binds = [...(this.settings.binds ?? []), value as string]
      return
    }

    this.unknown.delete(slot)
    Object.assign(this.settings, {[slot]: value})
  }

  private assign(stmt: Extract<Stmt, {kind: 'assign'}>): void {
    const value = evaluate(stmt.expr, this.ctx)
    const current = this.ctx.scope.get(stmt.name)
    if (stmt.op === '=') this.ctx.scope.set(stmt.name, value)
    else if (stmt.op === '||=')
      this.ctx.scope.set(stmt.name, current !== undefined && !isUnknown(current) && truthy(current) ? current : value)
    else this.ctx.scope.set(stmt.name, new Unknown(`changes ${stmt.name} with ${stmt.op}`))
  }

  private expression(parsed: Expr, line: number): void {
    // A bare name not assigned before is a call without arguments (`preload_app!`, `fork_worker`).
    const expr: Expr =
      parsed.kind === 'var' && !this.ctx.scope.has(parsed.name)
        ? {args: [], kind: 'call', line: parsed.line, name: parsed.name}
        : parsed
    // A block given to anything but one of Puma's hooks may run the settings inside it (`each do … end`).
    if (expr.kind === 'call' && expr.block && !HOOK.test(expr.name))
      this.opaqueTokens(expr.block, `is set inside a block given to ${expr.name}`)
    if (expr.kind !== 'call' || expr.recv)
      return this.uncertain(callsIn(expr), line, 'is set inside an expression it cannot follow')
    if (SETTINGS.has(expr.name)) {
      // `pidfile ENV.fetch('X') do … end`: the block binds to pidfile, not to fetch
      if (expr.block) return this.unresolved(expr.name as ConfigSetting, expr.line, 'is given a block')
      return this.apply(expr, expr.name as ConfigSetting)
    }

    if (EVALUATING.has(expr.name)) {
      for (const setting of CONFIG_SETTINGS)
        this.unresolved(setting, line, `the file calls ${expr.name}, which can set anything`)
      return
    }

    for (const {setting} of this.methods.get(expr.name) ?? [])
      this.unresolved(setting, line, `is set by ${expr.name}, a method the file defines`)
  }

  private ifStatement(stmt: Extract<Stmt, {kind: 'if'}>): void {
    for (const [index, branch] of stmt.branches.entries()) {
      const cond = branch.cond ? evaluate(branch.cond, this.ctx) : true
      if (isUnknown(cond)) {
        const why = `depends on a condition it cannot evaluate (line ${stmt.line}: it ${cond.why})`
        for (const rest of stmt.branches.slice(index)) this.uncertainBody(rest.body, why)
        return
      }

      if (truthy(cond)) return this.run(branch.body)
    }
  }

  private opaque(stmt: Extract<Stmt, {kind: 'opaque'}>): void {
    const name = stmt.tokens[1]
    if (stmt.what === 'def' && name?.kind === 'ident') {
      const found: Array<{setting: ConfigSetting}> = []
      for (const token of stmt.tokens)
        if (token.kind === 'ident' && SETTINGS.has(token.text)) found.push({setting: token.text as ConfigSetting})
      this.methods.set(name.text, found)
      return
    }

    this.opaqueTokens(
      stmt.tokens,
      stmt.what === 'unparsed' ? 'is in a statement it cannot parse' : `is inside a ${stmt.what} it cannot follow`,
    )
  }

  private opaqueTokens(tokens: Token[], why: string): void {
    for (const [index, token] of tokens.entries()) {
      const before = tokens[index - 1]
      const after = tokens[index + 1]
      if (token.kind !== 'ident' || (before?.kind === 'op' && ['&.', '.', '::'].includes(before.text))) continue
      if (before?.kind === 'kw' && before.text === 'def') continue
      if (SETTINGS.has(token.text)) this.unresolved(token.text as ConfigSetting, token.line, why)
      for (const {setting} of this.methods.get(token.text) ?? []) this.unresolved(setting, token.line, why)
      if (after?.kind === 'op' && /^[-+*|&]?=$|^\|\|=$|^&&=$/.test(after.text))
        this.ctx.scope.set(token.text, new Unknown(`uses ${token.text}, set where it cannot follow`))
    }
  }

  private statement(stmt: Stmt): void {
    switch (stmt.kind) {
      case 'assign': {
        return this.assign(stmt)
      }

      case 'expr': {
        return this.expression(stmt.expr, stmt.line)
      }

      case 'if': {
        return this.ifStatement(stmt)
      }

      default: {
        return this.opaque(stmt)
      }
    }
  }

  private uncertain(calls: Array<{line: number; name: string}>, line: number, why: string): void {
    for (const call of calls) {
      if (SETTINGS.has(call.name)) this.unresolved(call.name as ConfigSetting, call.line || line, why)
      for (const {setting} of this.methods.get(call.name) ?? []) this.unresolved(setting, call.line || line, why)
    }
  }

  /** A branch that may or may not run: what it sets is unresolved, and the locals it assigns are unknown. */
  private uncertainBody(body: Stmt[], why: string): void {
    for (const stmt of body) {
      switch (stmt.kind) {
        case 'assign': {
          this.ctx.scope.set(stmt.name, new Unknown(`uses ${stmt.name}, which ${why}`))
          break
        }

        case 'expr': {
          this.uncertain(callsIn(stmt.expr), stmt.line, why)
          break
        }

        case 'if': {
          for (const branch of stmt.branches) this.uncertainBody(branch.body, why)
          break
        }

        default: {
          this.opaqueTokens(stmt.tokens, why)
        }
      }
    }
  }

  private unresolved(setting: ConfigSetting, line: number, why: string): void {
    const slot = SLOT.get(setting)!
    if (slot === 'binds') delete this.settings.binds
    this.unknown.set(slot, {line, setting, why})
  }
}

/** Every call (by name) in an expression, for settings reached through `and`, `or` or ternaries. */
function callsIn(expr: Expr): Array<{line: number; name: string}> {
  if (expr.kind === 'and' || expr.kind === 'binary' || expr.kind === 'or')
    return [...callsIn(expr.left), ...callsIn(expr.right)]
  switch (expr.kind) {
    case 'call': {
      return [
        {line: expr.line, name: expr.name},
        ...(expr.recv ? callsIn(expr.recv) : []),
        ...expr.args.flatMap((arg) => callsIn(arg)),
      ]
    }

    case 'if': {
      return [...callsIn(expr.cond), ...callsIn(expr.whenTrue), ...callsIn(expr.whenFalse)]
    }

    case 'not': {
      return callsIn(expr.expr)
    }

    case 'var': {
      return [{line: expr.line, name: expr.name}]
    }

    default: {
      return []
    }
  }
}
