/** Colour only on a terminal, and never with NO_COLOR set to something (no-color.org; chalk 5 does not read it). */
export function colourWanted(stream: Pick<NodeJS.WriteStream, 'isTTY'>, env = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb'
}

/** The few styles ctl uses: chalk's, or none. */
export type Paint = Record<'bold' | 'cyan' | 'dim' | 'green' | 'red' | 'yellow', (text: string) => string>

const plain = (text: string) => text
const noPaint: Paint = {red: plain, green: plain, yellow: plain, bold: plain, dim: plain, cyan: plain}

/** chalk is imported only when colour is wanted: pipes and CI pay nothing for it. */
export async function paintFor(stream: Pick<NodeJS.WriteStream, 'isTTY'>, env = process.env): Promise<Paint> {
  if (!colourWanted(stream, env)) return noPaint
  // The Chalk class, not the default instance: level 1 (16 colours) whatever chalk detects from
  // process.stdout, since the decision is ours, made above for this stream.
  // eslint-disable-next-line unicorn/import-style -- the default export is that pre-levelled instance
  const {Chalk} = await import('chalk')
  return new Chalk({level: 1})
}
