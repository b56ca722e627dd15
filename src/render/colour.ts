import type {ChalkInstance} from 'chalk'

/** Colour only on a terminal, and never with NO_COLOR set to something (no-color.org; chalk 5 does not read it). */
export function colourWanted(stream: NodeJS.WriteStream, env = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb'
}

export type Paint = Pick<ChalkInstance, 'bold' | 'cyan' | 'dim' | 'green' | 'red' | 'yellow'>

const plain = (text: string) => text
const noPaint: Paint = {
  red: plain,
  green: plain,
  yellow: plain,
  bold: plain,
  dim: plain,
  cyan: plain,
} as unknown as Paint

/** chalk is imported only when colour is wanted: pipes and CI pay nothing for it. */
export async function paintFor(stream: NodeJS.WriteStream): Promise<Paint> {
  if (!colourWanted(stream)) return noPaint
  const {Chalk} = await import('chalk')
  return new Chalk({level: 1})
}
