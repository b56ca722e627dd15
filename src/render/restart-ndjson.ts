import {type RestartEvent} from '../restart/api.js'
import {type Notice, type RestartProgress} from '../restart/machine.js'
import {type RestartStart} from '../restart/run.js'
import {printableJson} from '../text/printable.js'
import {type RestartView} from './restart.js'

type RestartUpdate = Extract<RestartEvent, {type: 'update'}>

/** One line of --ndjson: `event` first, `at` last, the fields between in a fixed order (README, "--ndjson"). */
export type StreamEvent =
  | {bootSeconds?: number; event: 'worker-booted'; index?: number; oldPid?: number; pid: number}
  | {durationMs: number; event: 'check'; folder?: string; how: 'command' | 'puma'}
  | {event: 'failure'; message: string}
  | {event: 'phase-started'; message: string; phase?: number; restart: string}
  | {event: 'sent'; pid?: number; signal: string; via: string}
  | {event: 'started'; pid?: number}
  | {event: 'warning'; message: string}
  | {event: 'worker-stopping'; pid: number}

/** What started() tells: the pre-flight warnings, the boot check that passed, then the signal (ctl start: the new master). */
export function startEvents(start: RestartStart): StreamEvent[] {
  const {check} = start
  return [
    ...start.preflight.warnings.map((message): StreamEvent => ({event: 'warning', message})),
    ...(check ? [{event: 'check', how: check.how, durationMs: check.durationMs, folder: check.folder} as const] : []),
    // A headline instead of "Sent …" is ctl start's: nothing was sent, a master was spawned.
    start.headline === undefined
      ? {event: 'sent', signal: start.sent, via: start.via, pid: start.pid}
      : {event: 'started', pid: start.pid},
  ]
}

/** A notice of the restart machine as a stream event. */
const NOTICE_EVENTS: {[K in Notice['kind']]: (notice: Notice, progress: RestartProgress) => StreamEvent} = {
  error: ({message}) => ({event: 'failure', message}),
  'restart-started': ({message}, {phase, restart}) => ({event: 'phase-started', restart, phase, message}),
  warning: ({message}) => ({event: 'warning', message}),
  'worker-booted'({message, worker}) {
    if (!worker) return {event: 'warning', message}
    return {
      event: 'worker-booted',
      index: worker.index,
      pid: worker.newPid,
      oldPid: worker.oldPid,
      bootSeconds: worker.bootSeconds,
    }
  },
}

/** What one update tells: the workers Puma began stopping since the last one, then the machine's notices. */
export function updateEvents(update: RestartUpdate, told: Set<number>): StreamEvent[] {
  const stopping = update.stopping.filter((pid) => !told.has(pid))
  for (const pid of stopping) told.add(pid)
  return [
    ...stopping.map((pid): StreamEvent => ({event: 'worker-stopping', pid})),
    ...update.notices.map((notice) => NOTICE_EVENTS[notice.kind](notice, update.progress)),
  ]
}

/**
 * --ndjson: each event as one JSON line on `stream` (stdout), written as it happens, for deploy tools
 * and log shippers that read it live. The outcome (or the error) is the last line, printed by the
 * command runner as --json would, on one line.
 */
export function ndjsonView(stream: Pick<NodeJS.WriteStream, 'write'>, now: () => Date = () => new Date()): RestartView {
  const told = new Set<number>()
  const write = (events: StreamEvent[]) => {
    for (const event of events) stream.write(`${JSON.stringify({...event, at: now().toISOString()}, printableJson)}\n`)
  }

  return {
    started: (start) => write(startEvents(start)),
    update: (update) => write(updateEvents(update, told)),
    stop() {},
  }
}
