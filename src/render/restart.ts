import {type RestartEvent} from '../restart/api.js'
import {type RestartProgress} from '../restart/machine.js'
import {type RestartStart} from '../restart/run.js'
import {printable} from '../text/printable.js'
import {colourWanted, type Paint, paintFor} from './colour.js'
import {formatDuration} from './format.js'

type RestartUpdate = Extract<RestartEvent, {type: 'update'}>

/** What a restart shows while it waits: chosen once, from --json, --quiet and whether stderr is a terminal. */
export interface RestartView {
  started(start: RestartStart): void
  /** Leaves the terminal clean (spinner gone); safe to call twice. */
  stop(): void
  update(update: RestartUpdate): void
}

export type ViewMode = 'plain' | 'silent' | 'spinner'

export function viewMode(
  options: {json: boolean; quiet: boolean},
  stream: NodeJS.WriteStream = process.stderr,
): ViewMode {
  if (options.json || options.quiet) return 'silent'
  // A pseudo-terminal of size 0 (script(1) without a terminal, some CI runners) has no room for a
  // spinner: ora would clear lines without end. Plain lines work anywhere.
  return stream.isTTY && (stream.columns ?? 0) > 0 ? 'spinner' : 'plain'
}

function following(start: RestartStart): string {
  const sources = start.logs.map((log) => log.path)
  if (sources.length === 0 && start.stats) return "following Puma's /stats"
  return `following ${sources.join(' and ')}${start.stats ? ', confirming with /stats' : ''}`
}

const SYMBOLS = {'restart-started': '→', 'worker-booted': '✔', warning: '⚠', error: '✖'} as const

export async function restartView(
  mode: ViewMode,
  stream: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RestartView> {
  if (mode === 'silent') return {started() {}, update() {}, stop() {}}
  const paint = await paintFor(stream, env)
  const colour = {'restart-started': paint.cyan, 'worker-booted': paint.green, warning: paint.yellow, error: paint.red}
  const line = (kind: keyof typeof SYMBOLS, message: string) => `${colour[kind](SYMBOLS[kind])} ${printable(message)}`
  const startLines = (start: RestartStart) => [
    ...start.preflight.warnings.map((warning) => line('warning', warning)),
    ...(start.check
      ? [line('worker-booted', `The new release boots (checked in ${formatDuration(start.check.durationMs / 1000)})`)]
      : []),
    start.headline === undefined
      ? `Sent ${start.sent} to ${start.via === 'control' ? "Puma's control server" : `Puma master ${start.pid}`}; ${printable(following(start))}`
      : printable(start.headline),
  ]

  if (mode === 'plain') {
    const write = (text: string) => stream.write(`${text}\n`)
    return {
      started(start) {
        for (const text of startLines(start)) write(text)
      },
      update({notices}) {
        for (const notice of notices) write(line(notice.kind, notice.message))
      },
      stop() {},
    }
  }

  return spinnerView(stream, {paint, line, startLines, coloured: colourWanted(stream, env)})
}

/** How the lines look, shared by the plain and the spinner view. */
interface Look {
  coloured: boolean
  line: (kind: keyof typeof SYMBOLS, message: string) => string
  paint: Paint
  startLines: (start: RestartStart) => string[]
}

async function spinnerView(
  stream: NodeJS.WriteStream,
  {coloured, line, paint, startLines}: Look,
): Promise<RestartView> {
  const {default: ora} = await import('ora')
  const spinner = ora({
    stream,
    color: coloured ? 'cyan' : false,
    isEnabled: true,
    discardStdin: false,
    isSilent: false,
  })
  let latest: RestartProgress | undefined
  let startedAt = Date.now()
  const refresh = () => {
    const label = latest?.label ?? 'waiting for Puma'
    spinner.text = `${label} ${paint.dim(`(${((Date.now() - startedAt) / 1000).toFixed(1)} s)`)}`
    // ora shows new text only at its next frame: a new label is shown at once.
    if (spinner.isSpinning) spinner.render()
  }

  // The elapsed time moves on between events; only a terminal needs to see that.
  let clock: NodeJS.Timeout | undefined
  const above = (text: string) => {
    spinner.clear()
    stream.write(`${text}\n`)
    spinner.render()
  }

  return {
    started(start) {
      for (const text of startLines(start)) stream.write(`${text}\n`)
      startedAt = Date.now()
      refresh()
      spinner.start()
      clock = setInterval(refresh, 200)
    },
    update({notices, progress}) {
      for (const notice of notices) above(line(notice.kind, notice.message))
      latest = progress
      refresh()
    },
    stop() {
      clearInterval(clock)
      if (spinner.isSpinning) spinner.stop()
    },
  }
}
