import {Writable} from 'node:stream'
import {stripVTControlCharacters} from 'node:util'

/**
 * A writable stream that stands in for stderr, as ora's own tests do: a terminal (isTTY, columns, the
 * cursor methods ora calls) or a pipe. It keeps every byte written and, for a terminal, what the
 * screen shows once the cursor moves and line clears are applied, so a test can assert both what
 * was sent and what the user is left looking at.
 */
export class FakeTerminal extends Writable {
  columns: number
  isTTY: boolean
  rows = 24
  /** Every chunk as written, escape codes included. */
  written = ''
  private column = 0
  private lines = ['']
  private row = 0

  constructor({columns = 80, isTTY = true}: {columns?: number; isTTY?: boolean} = {}) {
    super({decodeStrings: false})
    this.columns = columns
    this.isTTY = isTTY
  }

  /** What the terminal shows, one string a line, without the empty lines at the end. */
  get screen(): string[] {
    const lines = [...this.lines]
    while (lines.length > 0 && lines.at(-1) === '') lines.pop()
    return lines
  }

  /** As a process.stderr for the code under test. */
  get stream(): NodeJS.WriteStream {
    return this as unknown as NodeJS.WriteStream
  }

  _write(chunk: Buffer | string, _encoding: string, callback: (error?: Error | null) => void): void {
    const text = String(chunk)
    this.written += text
    for (const char of stripVTControlCharacters(text)) this.put(char)
    callback()
  }

  clearLine(direction: -1 | 0 | 1, callback?: () => void): boolean {
    const line = this.lines[this.row]
    if (direction === 1) this.lines[this.row] = line.slice(0, this.column)
    else if (direction === -1) this.lines[this.row] = ' '.repeat(this.column) + line.slice(this.column)
    else this.lines[this.row] = ''
    callback?.()
    return true
  }

  cursorTo(x: number, y?: (() => void) | number, callback?: () => void): boolean {
    this.column = x
    if (typeof y === 'number') this.moveTo(y)
    ;(typeof y === 'function' ? y : callback)?.()
    return true
  }

  moveCursor(dx: number, dy: number, callback?: () => void): boolean {
    this.column = Math.max(0, this.column + dx)
    this.moveTo(this.row + dy)
    callback?.()
    return true
  }

  private moveTo(row: number): void {
    this.row = Math.max(0, row)
    while (this.lines.length <= this.row) this.lines.push('')
  }

  private put(char: string): void {
    if (char === '\n') {
      this.moveTo(this.row + 1)
      this.column = 0
      return
    }

    if (char === '\r') {
      this.column = 0
      return
    }

    const line = this.lines[this.row].padEnd(this.column)
    this.lines[this.row] = line.slice(0, this.column) + char + line.slice(this.column + 1)
    this.column++
  }
}

const ESC = '\u001B'
/** ESC [ 31 m and the like (SGR): built from a string, as a regex literal may hold no control character. */
const SGR = new RegExp(`${ESC}\\[[\\d;]*m`)

/** Whether the text holds a colour code: cursor moves and line clears are not colour. */
export const hasColour = (text: string) => SGR.test(text)
