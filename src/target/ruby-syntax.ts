import {type Token} from './ruby-lexer.js'

/** The syntax tree ruby-parse.ts builds, and the keyword rules that find where a block or statement ends. */

export type Expr =
  | {args: Expr[]; block?: Token[]; kind: 'call'; line: number; name: string; recv?: Expr}
  | {cond: Expr; kind: 'if'; whenFalse: Expr; whenTrue: Expr}
  | {expr: Expr; kind: 'not'}
  | {items: Expr[]; kind: 'array'}
  | {kind: 'and' | 'or'; left: Expr; right: Expr}
  | {kind: 'binary'; left: Expr; op: string; right: Expr}
  | {kind: 'const'; name: string}
  | {kind: 'hash'; pairs: Array<[Expr, Expr]>}
  | {kind: 'literal'; value: boolean | null | number | string}
  | {kind: 'opaque'; what: string}
  | {kind: 'special'; name: '__dir__' | '__FILE__' | 'self'}
  | {kind: 'str'; parts: Array<Expr | string>}
  | {kind: 'sym'; name: string}
  | {kind: 'var'; line: number; name: string}

export type Stmt =
  | {branches: Array<{body: Stmt[]; cond?: Expr}>; kind: 'if'; line: number}
  | {expr: Expr; kind: 'assign'; line: number; name: string; op: string}
  | {expr: Expr; kind: 'expr'; line: number}
  | {kind: 'opaque'; line: number; tokens: Token[]; what: string}

export class ParseError extends Error {}

const VALUE_KEYWORDS = new Set(['__dir__', '__FILE__', 'end', 'false', 'nil', 'self', 'true'])
const OPENERS = new Set(['begin', 'case', 'class', 'def', 'do', 'module'])
const CONDITIONAL_OPENERS = new Set(['for', 'if', 'unless', 'until', 'while'])
const LOOPS = new Set(['for', 'until', 'while'])
export const BLOCK_END = new Set(['else', 'elsif', 'end', 'ensure', 'rescue', 'when'])
export const OPAQUE_STATEMENTS = new Set([
  'begin',
  'case',
  'class',
  'def',
  'for',
  'module',
  'return',
  'until',
  'while',
  'yield',
])
export const BINARY: Array<Set<string>> = [
  new Set(['||']),
  new Set(['&&']),
  new Set(['!=', '!~', '<=>', '==', '===', '=~']),
  new Set(['<', '<=', '>', '>=']),
  new Set(['+', '-']),
  new Set(['%', '*', '/']),
]

/** Is `token` where a statement may start (so `if` opens a block rather than modifying the statement before it)? */
export function startsStatement(previous: Token | undefined): boolean {
  if (!previous || previous.kind === 'nl') return true
  if (previous.kind === 'op') return !['!', ')', ']', '}'].includes(previous.text)
  return previous.kind === 'kw' && !VALUE_KEYWORDS.has(previous.text)
}

/** The position after the `end` (or `}`) closing `open`, whose body starts at `pos`; `loop` for while/until/for, whose `do` is optional. */
export function blockEnd(tokens: Token[], pos: number, open: Token, loop: boolean): number {
  let depth = 1
  let loopDo = loop
  let at = pos
  while (depth > 0) {
    const token = tokens[at++]
    if (!token || token.kind === 'eof') throw new ParseError(`unterminated block from line ${open.line}`)
    if (open.text === '{') {
      if (token.kind === 'op' && token.text === '{') depth++
      if (token.kind === 'op' && token.text === '}') depth--
      continue
    }

    if (token.kind === 'nl') loopDo = false
    if (token.kind !== 'kw') continue
    if (token.text === 'end') depth--
    else if (token.text === 'do' && loopDo) loopDo = false
    else if (OPENERS.has(token.text)) depth++
    else if (CONDITIONAL_OPENERS.has(token.text) && startsStatement(tokens[at - 2])) {
      depth++
      loopDo = LOOPS.has(token.text)
    }
  }

  return at
}

/** Where the statement at `start` ends: after a whole block for `def`/`case`/…, else at the end of its line. */
export function statementEnd(tokens: Token[], start: number): number {
  let depth = 0
  let at = start
  while (tokens[at] && tokens[at].kind !== 'eof') {
    const token = tokens[at]
    const ends =
      token.kind === 'nl' ||
      (token.kind === 'op' && token.text === ';') ||
      (token.kind === 'kw' && BLOCK_END.has(token.text))
    if (depth === 0 && at > start && ends) break
    const conditional = CONDITIONAL_OPENERS.has(token.text) && startsStatement(tokens[at - 1])
    if (token.kind === 'kw' && (OPENERS.has(token.text) || conditional)) {
      at = blockEnd(tokens, at + 1, token, LOOPS.has(token.text))
      continue
    }

    if (token.kind === 'op' && ['(', '[', '{'].includes(token.text)) depth++
    if (token.kind === 'op' && [')', ']', '}'].includes(token.text)) depth--
    at++
  }

  return at
}

/** The value of a keyword in an expression (`nil`, `true`, `__dir__`…). */
export function keywordValue(token: Token): Expr {
  switch (token.text) {
    case '__dir__':
    case '__FILE__':
    case 'self': {
      return {kind: 'special', name: token.text}
    }

    case 'false': {
      return {kind: 'literal', value: false}
    }

    case 'nil': {
      return {kind: 'literal', value: null}
    }

    case 'true': {
      return {kind: 'literal', value: true}
    }

    default: {
      throw new ParseError(`unexpected ${token.text} on line ${token.line}`)
    }
  }
}
