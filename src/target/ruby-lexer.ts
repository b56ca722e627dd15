/**
 * A tokenizer for the subset of Ruby that Puma config files are written in. It never guesses silently:
 * literals it cannot read (heredocs, regexps, %w lists, `#@ivar` interpolation) become `opaque` tokens
 * whose value the evaluator treats as unknown, so a setting built from them is reported unresolved.
 */

export type Token =
  | {kind: 'const'; line: number; space: boolean; text: string}
  | {kind: 'eof'; line: number; space: boolean; text: ''}
  | {kind: 'ident'; line: number; space: boolean; text: string}
  | {kind: 'kw'; line: number; space: boolean; text: string}
  | {kind: 'label'; line: number; space: boolean; text: string}
  | {kind: 'nl'; line: number; space: boolean; text: string}
  | {kind: 'num'; line: number; space: boolean; text: string; value: number}
  | {kind: 'op'; line: number; space: boolean; text: string}
  | {kind: 'opaque'; line: number; space: boolean; text: string}
  | {kind: 'str'; line: number; parts: StrPart[]; space: boolean; text: string}
  | {kind: 'sym'; line: number; space: boolean; text: string}

/** A double-quoted string's pieces: literal text, or the tokens of one `#{…}`. */
export type StrPart = string | Token[]

export const KEYWORDS = new Set([
  '__dir__',
  '__FILE__',
  'and',
  'begin',
  'case',
  'class',
  'def',
  'do',
  'else',
  'elsif',
  'end',
  'ensure',
  'false',
  'for',
  'if',
  'module',
  'nil',
  'not',
  'or',
  'rescue',
  'return',
  'self',
  'then',
  'true',
  'unless',
  'until',
  'when',
  'while',
  'yield',
])

const OPERATORS = [
  '**=',
  '||=',
  '&&=',
  '<=>',
  '===',
  '...',
  '::',
  '==',
  '!=',
  '>=',
  '<=',
  '&&',
  '||',
  '=>',
  '=~',
  '!~',
  '+=',
  '-=',
  '*=',
  '<<',
  '>>',
  '&.',
  '..',
  '->',
]
const SINGLE_OPS = '(){}[],.;=!?:+-*/%<>&|^~'
const ESCAPES: Record<string, string> = {'0': '\0', a: '\u0007', e: '\u001B', n: '\n', r: '\r', s: ' ', t: '\t'}
/** After these, `/` starts a regexp and a newline continues the statement. */
const CONTINUING_OPS = new Set([...OPERATORS, ...',.([{=!?:+-*/%<>&|^~'].filter((op) => !['..', '...'].includes(op)))

export class LexError extends Error {}

export function tokenize(source: string): Token[] {
  return new Lexer(source).all()
}

class Lexer {
  private line = 1
  private readonly pendingHeredocs: Array<{id: string; squiggly: boolean}> = []
  private pos = 0

  constructor(private readonly src: string) {}

  all(): Token[] {
    const tokens = this.until(undefined)
    tokens.push({kind: 'eof', line: this.line, space: true, text: ''})
    return tokens
  }

  private atLineStart(): boolean {
    return this.pos === 0 || this.src[this.pos - 1] === '\n'
  }

  private delimited(open: string): string {
    const close = ({'(': ')', '<': '>', '[': ']', '{': '}'} as Record<string, string>)[open] ?? open
    let depth = 1
    let text = ''
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos++]
      if (ch === '\n') this.line++
      if (ch === '\\') {
        text += ch + (this.src[this.pos++] ?? '')
        continue
      }

      if (ch === close && --depth === 0) return text
      if (ch === open && open !== close) depth++
      text += ch
    }

    throw new LexError(`unterminated literal from line ${this.line}`)
  }

  private doubleQuoted(close: string, line: number, space: boolean): Token {
    const parts: StrPart[] = []
    let text = ''
    let opaque = false
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos++]
      if (ch === close) {
        if (text) parts.push(text)
        return opaque ? {kind: 'opaque', line, space, text: 'string'} : {kind: 'str', line, parts, space, text: ''}
      }

      if (ch === '\n') this.line++
      if (ch === '\\') {
        const next = this.src[this.pos++] ?? ''
        if (next === '\n') this.line++
        else if (/[0-7xuc]/.test(next) && next !== '0') opaque = true
        text += ESCAPES[next] ?? (next === '\n' ? '' : next)
      } else if (ch === '#' && this.src[this.pos] === '{') {
        this.pos++
        if (text) parts.push(text)
        text = ''
        parts.push(this.until('}'))
      } else if (ch === '#' && /[@$]/.test(this.src[this.pos] ?? '')) {
        opaque = true
      } else text += ch
    }

    throw new LexError(`unterminated string from line ${line}`)
  }

  private heredocStart(): string | undefined {
    const match = /^<<([~-]?)(["'`]?)([A-Za-z_]\w*)\2/.exec(this.src.slice(this.pos))
    if (!match) return undefined
    this.pos += match[0].length
    this.pendingHeredocs.push({id: match[3], squiggly: match[1] !== ''})
    return match[0]
  }

  /** A `%`, `/` or `<<` literal, where a value is expected (so not modulo, division or a shift). */
  private literal(line: number, space: boolean): Token | undefined {
    const {src} = this
    const ch = src[this.pos]
    if (ch === '%') {
      const match = /^%([iIqQrswWx]?)([^\s\w])/.exec(src.slice(this.pos))
      if (!match) return undefined
      this.pos += match[0].length
      const body = this.delimited(match[2])
      if (match[1] === 'q') return {kind: 'str', line, parts: [body], space, text: ''}
      return {kind: 'opaque', line, space, text: 'literal'}
    }

    if (ch === '/') {
      this.pos++
      this.delimited('/')
      while (/[imox]/.test(src[this.pos] ?? '')) this.pos++
      return {kind: 'opaque', line, space, text: 'regexp'}
    }

    if (src.startsWith('<<', this.pos) && this.heredocStart()) return {kind: 'opaque', line, space, text: 'heredoc'}
    return undefined
  }

  private next(previous: Token | undefined): Token | undefined {
    const {src} = this
    let space = false
    while (this.pos < src.length) {
      const ch = src[this.pos]
      if (ch === ' ' || ch === '\t' || ch === '\r') {
        this.pos++
        space = true
      } else if (ch === '\\' && src[this.pos + 1] === '\n') {
        this.pos += 2
        this.line++
        space = true
      } else if (ch === '#') {
        while (this.pos < src.length && src[this.pos] !== '\n') this.pos++
      } else if (this.atLineStart() && src.startsWith('=begin', this.pos)) {
        const end = src.indexOf('\n=end', this.pos)
        const stop = end === -1 ? src.length : src.indexOf('\n', end + 5)
        this.line += (src.slice(this.pos, stop === -1 ? src.length : stop).match(/\n/g) ?? []).length
        this.pos = stop === -1 ? src.length : stop
      } else if (
        this.atLineStart() &&
        /^__END__\r?$/m.test(src.slice(this.pos, src.indexOf('\n', this.pos) + 1 || undefined))
      ) {
        this.pos = src.length
      } else break
    }

    if (this.pos >= src.length) return undefined
    return this.token(previous, space)
  }

  private number(line: number, space: boolean): Token {
    const match = /^\d[\d_]*(\.\d[\d_]*)?(e[+-]?\d+)?/i.exec(this.src.slice(this.pos))!
    this.pos += match[0].length
    return {kind: 'num', line, space, text: match[0], value: Number(match[0].replaceAll('_', ''))}
  }

  private operator(line: number, space: boolean): Token {
    const ch = this.src[this.pos]
    const op =
      OPERATORS.find((candidate) => this.src.startsWith(candidate, this.pos)) ??
      (SINGLE_OPS.includes(ch) ? ch : undefined)
    if (!op) throw new LexError(`unexpected character on line ${line}`)
    this.pos += op.length
    return {kind: 'op', line, space, text: op}
  }

  private quoted(line: number, space: boolean): Token | undefined {
    const ch = this.src[this.pos]
    if (ch === "'") {
      this.pos++
      return {kind: 'str', line, parts: [singleQuoted(this.delimited("'"))], space, text: ''}
    }

    if (ch !== '"' && ch !== '`') return undefined
    this.pos++
    const token = this.doubleQuoted(ch, line, space)
    return ch === '`' ? {kind: 'opaque', line, space, text: 'command'} : token
  }

  private skipHeredocBodies(): void {
    for (const {id, squiggly} of this.pendingHeredocs.splice(0)) {
      const terminator = squiggly ? new RegExp(`^[ \\t]*${id}\\r?$`) : new RegExp(`^${id}\\r?$`)
      for (;;) {
        if (this.pos >= this.src.length) throw new LexError(`unterminated heredoc ${id}`)
        const end = this.src.indexOf('\n', this.pos)
        const lineText = this.src.slice(this.pos, end === -1 ? undefined : end)
        this.pos = end === -1 ? this.src.length : end + 1
        this.line++
        if (terminator.test(lineText)) break
      }
    }
  }

  private symbol(line: number, space: boolean): Token | undefined {
    const {src} = this
    if (src[this.pos] !== ':' || src[this.pos - 1] === ':') return undefined
    if (src[this.pos + 1] === '"') {
      this.pos += 2
      const token = this.doubleQuoted('"', line, space)
      return token.kind === 'str' && token.parts.every((part) => typeof part === 'string')
        ? {kind: 'sym', line, space, text: token.parts.join('')}
        : {kind: 'opaque', line, space, text: 'symbol'}
    }

    const match = /^:([A-Z_a-z]\w*[!=?]?)/.exec(src.slice(this.pos))
    if (!match) return undefined
    this.pos += match[0].length
    return {kind: 'sym', line, space, text: match[1]}
  }

  private token(previous: Token | undefined, space: boolean): Token {
    const {line, src} = this
    const ch = src[this.pos]
    if (ch === '\n') {
      this.pos++
      this.line++
      this.skipHeredocBodies()
      return {kind: 'nl', line, space, text: '\n'}
    }

    if (/\d/.test(ch)) return this.number(line, space)
    if (/[A-Z_a-z]/.test(ch)) return this.word(line, space)
    if (ch === '@' || ch === '$') {
      this.pos += /^[$@]{1,2}\w*/.exec(src.slice(this.pos))![0].length
      return {kind: 'opaque', line, space, text: 'variable'}
    }

    const expectsValue =
      !previous || previous.kind === 'nl' || (previous.kind === 'op' && CONTINUING_OPS.has(previous.text))
    // `puts /x/` and `foo %w[a]`: a command's first argument, told from `a / b` by the spacing.
    const commandArg = previous?.kind === 'ident' && space && !/\s/.test(src[this.pos + 1] ?? '')
    const value = this.quoted(line, space) ?? this.symbol(line, space)
    if (value) return value
    return ((expectsValue || commandArg) && this.literal(line, space)) || this.operator(line, space)
  }

  private until(close: string | undefined): Token[] {
    const tokens: Token[] = []
    let depth = 0
    for (;;) {
      const token = this.next(tokens.at(-1))
      if (!token) {
        if (close) throw new LexError(`unterminated interpolation`)
        return tokens
      }

      if (token.kind === 'op' && token.text === '{') depth++
      if (token.kind === 'op' && token.text === '}' && close && depth-- === 0) return tokens
      tokens.push(token)
    }
  }

  private word(line: number, space: boolean): Token {
    const match = /^[A-Za-z_]\w*[?!]?/.exec(this.src.slice(this.pos))!
    let text = match[0]
    // `foo!=` is `foo != …`, not a method named foo!
    if (/[?!]$/.test(text) && this.src[this.pos + text.length] === '=') text = text.slice(0, -1)
    this.pos += text.length
    if (this.src[this.pos] === ':' && this.src[this.pos + 1] !== ':' && !/[?!]$/.test(text)) {
      this.pos++
      return {kind: 'label', line, space, text}
    }

    if (KEYWORDS.has(text)) return {kind: 'kw', line, space, text}
    return /^[A-Z]/.test(text) ? {kind: 'const', line, space, text} : {kind: 'ident', line, space, text}
  }
}

function singleQuoted(body: string): string {
  return body.replaceAll(/\\([\\'])/g, '$1')
}
