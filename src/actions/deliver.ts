import {commandRefused, type ControlEndpoint, controlRequest} from '../control/client.js'
import {refuseIfInterrupted, usageError} from '../errors.js'
import {sendSignal, type SignalCommand} from '../signals.js'
import {masterOf, type Reach} from '../target/reach.js'
import {type PumaMaster} from '../target/scan.js'

/** The commands Puma's control app also accepts, and its path for each (docs/puma-facts.md §4). */
export const CONTROL_PATHS = {
  'phased-restart': 'phased-restart',
  restart: 'restart',
  stop: 'stop',
  halt: 'halt',
  refork: 'refork',
} as const satisfies Partial<Record<SignalCommand, string>>

export type DeliverableCommand = keyof typeof CONTROL_PATHS
export type Via = 'control' | 'signal'

export interface Delivery {
  /** "SIGUSR1" or "GET /phased-restart", for messages. */
  sent: string
  via: Via
  warnings: string[]
}

export interface DeliverOptions {
  signal?: AbortSignal
  via: Via
}

/** Sends a command by signal to the verified master, or through Puma's control server. */
export async function deliver(
  command: DeliverableCommand,
  to: Reach,
  {signal, via}: DeliverOptions,
): Promise<Delivery> {
  refuseIfInterrupted(signal)
  // Only an explicit 'signal' signals: anything else an untyped caller passes goes to the control server.
  if (via === 'signal') return bySignal(command, masterOf(to))
  return byControl(command, to.control, signal)
}

function bySignal(command: DeliverableCommand, master: PumaMaster | undefined): Delivery {
  if (!master)
    throw usageError(`cannot send ${command} by signal: no master PID is known`, {
      suggestion: 'pass --pid, --pidfile or --state, or --via control',
    })
  return {via: 'signal', sent: sendSignal(master, command), warnings: []}
}

async function byControl(
  command: DeliverableCommand,
  control: ControlEndpoint | undefined,
  signal?: AbortSignal,
): Promise<Delivery> {
  if (!control) {
    throw usageError(`cannot send ${command} through the control server: no control URL is known`, {
      suggestion: 'pass --control-url and --control-token, or --state with a state file that records control_url',
    })
  }

  const path = CONTROL_PATHS[command]
  const answer = await controlRequest(control, path, {signal})
  const sent = `GET /${path}`
  if (answer.status === 200) return {via: 'control', sent, warnings: []}
  // Single mode answers 404 to /phased-restart, yet performs a hot restart (docs/puma-facts.md §4).
  if (command === 'phased-restart' && answer.status === 404 && /phased.?rest?art not available/.test(answer.body)) {
    return {
      via: 'control',
      sent,
      warnings: [
        'Puma answered that a phased restart is not available here (single mode): it does a hot restart instead',
      ],
    }
  }

  throw commandRefused(path, answer, {signalToo: true})
}
