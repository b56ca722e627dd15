import {stripVTControlCharacters} from 'node:util'

/** A cell's width on the terminal: colour codes take none. */
const width = (cell: string | undefined) => stripVTControlCharacters(cell ?? '').length

/** Left-aligned columns separated by two spaces, as `ps` prints them; colour codes take no width. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => width(row[i]))))
  return [header, ...rows].map((row) =>
    row
      .map((cell, i) => (cell ?? '') + ' '.repeat(widths[i] - width(cell)))
      .join('  ')
      .trimEnd(),
  )
}
