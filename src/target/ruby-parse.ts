import {type StrPart, type Token, tokenize} from './ruby-lexer.js'
import {
  BINARY,
  BLOCK_END,
  blockEnd,
  type Expr,
  keywordValue,
  OPAQUE_STATEMENTS,
  ParseError,
  statementEnd,
  type Stmt,
} from './ruby-syntax.js'

export {type Expr, ParseError, type Stmt} from './ruby-syntax.js'

/**
 * Tokens -> a small syntax tree of the statements Puma configs are made of. What it does not know
 * (case, loops, method definitions, begin/rescue, a statement it cannot parse) becomes an `opaque`
 * statement that keeps its tokens, so the reader can still say which settings it touched.
 */

export function parseRuby(source: string): Stmt[] {
  return parseTokens(tokenize(source))
}

export function parseTokens(tokens: Token[]): Stmt[] {
  const parser = new Parser([...tokens, ...(tokens.at(-1)?.kind === 'eof' ? [] : [eofAfter(tokens)])])
  const body = parser.statements([])
  parser.expectEof()
  return body
}

function eofAfter(tokens: Token[]): Token {
  return {kind: 'eof', line: tokens.at(-1)?.line ?? 1, space: true, text: ''}
}

class Parser {
  private pos = 0

  constructor(private readonly tokens: Token[]) {}

  expectEof(): void {
    this.skipNewlines()
    if (this.peek().kind !== 'eof') throw new ParseError(`unexpected ${this.peek().text} on line ${this.peek().line}`)
  }

  statements(terminators: string[]): Stmt[] {
    const body: Stmt[] = []
    for (;;) {
      this.skipNewlines()
      const token = this.peek()
      if (token.kind === 'eof' || (token.kind === 'kw' && terminators.includes(token.text))) return body
      if (token.kind === 'kw' && BLOCK_END.has(token.text))
        throw new ParseError(`unexpected ${token.text} on line ${token.line}`)
      body.push(this.statementOrOpaque())
    }
  }

  private args(close: string | undefined): Expr[] {
    const args: Expr[] = []
    const pairs: Array<[Expr, Expr]> = []
    for (;;) {
      if (close) this.skipNewlines()
      if (close && this.isOp(close)) break
      const token = this.peek()
      if (token.kind === 'label') {
        this.pos++
        this.skipNewlines()
        pairs.push([{kind: 'sym', name: token.text}, this.expr()])
      } else if (this.isOp('*') || this.isOp('&') || this.isOp('**')) {
        this.pos++
        this.expr()
        args.push({kind: 'opaque', what: 'splat'})
      } else {
        const value = this.expr()
        if (this.isOp('=>')) {
          this.pos++
          this.skipNewlines()
          pairs.push([value, this.expr()])
        } else args.push(value)
      }

      if (!this.isOp(',')) break
      this.pos++
      this.skipNewlines()
    }

    if (close) this.expect(close)
    if (pairs.length > 0) args.push({kind: 'hash', pairs})
    return args
  }

  private binary(level: number, command: boolean): Expr {
    if (level === BINARY.length) return this.unary(command)
    let left = this.binary(level + 1, command)
    while (this.peek().kind === 'op' && BINARY[level].has(this.peek().text)) {
      const op = this.next().text
      this.skipNewlines()
      const right = this.binary(level + 1, false)
      left =
        op === '||' || op === '&&' ? {kind: op === '||' ? 'or' : 'and', left, right} : {kind: 'binary', left, op, right}
    }

    return left
  }

  /** The tokens of a `do … end` or `{ … }` block, found by counting openers, not parsed. */
  private blockTokens(): Token[] {
    const open = this.next()
    const start = this.pos
    this.pos = blockEnd(this.tokens, start, open, false)
    return this.tokens.slice(start, this.pos - 1)
  }

  private call(name: string, line: number, recv: Expr | undefined, command: boolean): Expr {
    let args: Expr[] = []
    const token = this.peek()
    if (token.kind === 'op' && token.text === '(' && !token.space) {
      this.pos++
      args = this.args(')')
    } else if (command && this.startsArgument()) args = this.args(undefined)
    else if (!recv && !(this.isOp('{') || this.isKw('do'))) return {kind: 'var', line, name}
    const block = this.isOp('{') || (command && this.isKw('do')) ? this.blockTokens() : undefined
    return {args, block, kind: 'call', line, name, recv}
  }

  private expect(op: string): void {
    const token = this.next()
    if (token.kind !== 'op' || token.text !== op) throw new ParseError(`expected ${op} on line ${token.line}`)
  }

  private expr(command = false): Expr {
    const cond = this.binary(0, command)
    if (!this.isOp('?')) return cond
    this.pos++
    this.skipNewlines()
    const whenTrue = this.expr()
    this.skipNewlines()
    if (this.peek().kind === 'label') throw new ParseError('ternary with a label')
    this.expect(':')
    this.skipNewlines()
    return {cond, kind: 'if', whenFalse: this.expr(), whenTrue}
  }

  private ifStatement(): Stmt {
    const first = this.next()
    const branches: Array<{body: Stmt[]; cond?: Expr}> = []
    let cond: Expr | undefined = this.keywordLogic()
    if (first.text === 'unless') cond = {expr: cond, kind: 'not'}
    for (;;) {
      if (this.isKw('then')) this.pos++
      const body = this.statements(['elsif', 'else', 'end'])
      branches.push({body, cond})
      const keyword = this.next()
      if (keyword.text === 'end') break
      if (keyword.text === 'else') {
        branches.push({body: this.statements(['end'])})
        this.next()
        break
      }

      cond = this.keywordLogic()
    }

    return {branches, kind: 'if', line: first.line}
  }

  private isKw(text: string): boolean {
    const token = this.peek()
    return token.kind === 'kw' && token.text === text
  }

  private isOp(text: string): boolean {
    const token = this.peek()
    return token.kind === 'op' && token.text === text
  }

  private keywordLogic(): Expr {
    let left = this.isKw('not') ? (this.pos++, {expr: this.expr(true), kind: 'not' as const}) : this.expr(true)
    while (this.isKw('and') || this.isKw('or')) {
      const kind = this.next().text === 'and' ? ('and' as const) : ('or' as const)
      this.skipNewlines()
      left = {kind, left, right: this.expr(true)}
    }

    return left
  }

  private modifiers(stmt: Stmt): Stmt {
    let result = stmt
    while (this.isKw('if') || this.isKw('unless') || this.isKw('while') || this.isKw('until') || this.isKw('rescue')) {
      const keyword = this.next()
      const cond = this.keywordLogic()
      result =
        keyword.text === 'if' || keyword.text === 'unless'
          ? {
              branches: [{body: [result], cond: keyword.text === 'if' ? cond : {expr: cond, kind: 'not'}}],
              kind: 'if',
              line: keyword.line,
            }
          : {kind: 'opaque', line: stmt.line, tokens: [], what: keyword.text}
    }

    return result
  }

  private next(): Token {
    return this.tokens[Math.min(this.pos++, this.tokens.length - 1)]
  }

  /** Opaque from here to the end of the statement: a whole block for `def`/`case`/…, else the rest of the line. */
  private opaque(start: number, what: string): Stmt {
    this.pos = statementEnd(this.tokens, start)
    return {kind: 'opaque', line: this.tokens[start].line, tokens: this.tokens.slice(start, this.pos), what}
  }

  private peek(): Token {
    return this.tokens[Math.min(this.pos, this.tokens.length - 1)]
  }

  private postfix(base: Expr): Expr {
    let expr = base
    for (;;) {
      const token = this.peek()
      if (
        token.kind === 'nl' &&
        this.tokens[this.pos + 1]?.kind === 'op' &&
        ['&.', '.'].includes(this.tokens[this.pos + 1].text)
      ) {
        this.pos++
        continue
      }

      if (token.kind === 'op' && (token.text === '.' || token.text === '&.')) {
        this.pos++
        this.skipNewlines()
        const name = this.next()
        if (name.kind !== 'ident' && name.kind !== 'const' && name.kind !== 'kw')
          throw new ParseError(`method name expected on line ${name.line}`)
        expr = this.call(name.text, name.line, expr, false)
      } else if (token.kind === 'op' && token.text === '::') {
        this.pos++
        const name = this.next()
        expr = {kind: 'const', name: `${expr.kind === 'const' ? expr.name : '?'}::${name.text}`}
      } else if (token.kind === 'op' && token.text === '[' && !token.space) {
        this.pos++
        expr = {args: this.args(']'), kind: 'call', line: token.line, name: '[]', recv: expr}
      } else return expr
    }
  }

  private primary(command: boolean): Expr {
    const token = this.next()
    switch (token.kind) {
      case 'const': {
        if (this.isOp('(') && !this.peek().space) return this.call(token.text, token.line, undefined, false)
        return {kind: 'const', name: token.text}
      }

      case 'ident': {
        return this.call(token.text, token.line, undefined, command)
      }

      case 'kw': {
        return keywordValue(token)
      }

      case 'num': {
        return {kind: 'literal', value: token.value}
      }

      case 'op': {
        return this.primaryOp(token)
      }

      case 'opaque': {
        return {kind: 'opaque', what: token.text}
      }

      case 'str': {
        return {kind: 'str', parts: token.parts.map((part) => strPart(part))}
      }

      case 'sym': {
        return {kind: 'sym', name: token.text}
      }

      default: {
        throw new ParseError(`unexpected ${token.kind} on line ${token.line}`)
      }
    }
  }

  private primaryOp(token: Token): Expr {
    if (token.text === '(') {
      this.skipNewlines()
      const inner = this.expr(true)
      this.skipNewlines()
      this.expect(')')
      return inner
    }

    if (token.text === '[') return {items: this.args(']'), kind: 'array'}
    if (token.text === '{') {
      const args = this.args('}')
      if (args.length > 1 || (args.length === 1 && args[0].kind !== 'hash')) throw new ParseError('not a hash')
      return args[0] ?? {kind: 'hash', pairs: []}
    }

    if (token.text === '->') {
      if (this.isOp('(')) this.args(undefined)
      this.blockTokens()
      return {kind: 'opaque', what: 'lambda'}
    }

    if (token.text === '::') return {kind: 'const', name: this.next().text}
    throw new ParseError(`unexpected ${token.text} on line ${token.line}`)
  }

  private skipNewlines(): void {
    while (this.peek().kind === 'nl' || this.isOp(';')) this.pos++
  }

  private startsArgument(): boolean {
    const token = this.peek()
    if (!token.space) return false
    if (['const', 'ident', 'label', 'num', 'opaque', 'str', 'sym'].includes(token.kind)) return true
    if (token.kind === 'kw') return ['__dir__', '__FILE__', 'false', 'nil', 'not', 'self', 'true'].includes(token.text)
    if (token.kind !== 'op') return false
    const after = this.tokens[this.pos + 1]
    if (['!', '(', '->', '::', '['].includes(token.text)) return true
    return ['&', '*', '**', '-'].includes(token.text) && !after.space
  }

  private statement(): Stmt {
    const token = this.peek()
    if (token.kind === 'kw' && (token.text === 'if' || token.text === 'unless'))
      return this.modifiers(this.ifStatement())
    if (token.kind === 'kw' && OPAQUE_STATEMENTS.has(token.text)) return this.opaque(this.pos, token.text)
    const next = this.tokens[this.pos + 1]
    let stmt: Stmt
    if (token.kind === 'ident' && next?.kind === 'op' && ['&&=', '*=', '+=', '-=', '=', '||='].includes(next.text)) {
      this.pos += 2
      this.skipNewlines()
      stmt = {expr: this.expr(true), kind: 'assign', line: token.line, name: token.text, op: next.text}
    } else stmt = {expr: this.keywordLogic(), kind: 'expr', line: token.line}
    return this.modifiers(stmt)
  }

  private statementOrOpaque(): Stmt {
    const start = this.pos
    try {
      const stmt = this.statement()
      const token = this.peek()
      const ends =
        token.kind === 'nl' ||
        token.kind === 'eof' ||
        (token.kind === 'op' && token.text === ';') ||
        (token.kind === 'kw' && BLOCK_END.has(token.text))
      if (!ends) throw new ParseError(`unexpected ${token.text} on line ${token.line}`)
      return stmt.kind === 'opaque' && stmt.tokens.length === 0
        ? {...stmt, tokens: this.tokens.slice(start, this.pos)}
        : stmt
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      return this.opaque(start, 'unparsed')
    }
  }

  private unary(command: boolean): Expr {
    if (this.isOp('!')) {
      this.pos++
      return {expr: this.unary(false), kind: 'not'}
    }

    if (this.isOp('-') && this.tokens[this.pos + 1]?.kind === 'num') {
      this.pos++
      const number = this.next() as Extract<Token, {kind: 'num'}>
      return this.postfix({kind: 'literal', value: -number.value})
    }

    return this.postfix(this.primary(command))
  }
}

function strPart(part: StrPart): Expr | string {
  if (typeof part === 'string') return part
  const body = parseTokens(part)
  if (body.length === 1 && body[0].kind === 'expr') return body[0].expr
  return {kind: 'opaque', what: 'interpolation'}
}
