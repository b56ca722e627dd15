import {noMasterError} from '../errors.js'
import {type Kill, liveness, startTicks} from './liveness.js'
import {listProcesses, type ProcessEntry, readFamily, threadGroupOf} from './process-table.js'
import {findMasters, type PumaMaster} from './scan.js'
import {parseWorkerTitle} from './titles.js'

export interface VerifyDeps {
  kill?: Kill
  listProcesses?: () => Promise<ProcessEntry[]>
}

/**
 * Proves a PID is a running Puma master before anything is sent to it: alive, not a zombie, not a
 * worker, and titled (or, for untitled 2.0–2.7 masters, named by its workers) as a Puma master.
 * `origin` says where the PID came from, for the error message ("pidfile tmp/pids/puma.pid").
 */
export async function verifyMaster(pid: number, origin: string, deps: VerifyDeps = {}): Promise<PumaMaster> {
  // Read first: should the PID be reused while it is checked, sendSignal's comparison with this start time refuses it.
  const identity = startTicks(pid)
  if (liveness(pid, deps.kill) === 'gone') {
    throw noMasterError(`${origin}: process ${pid} is not running`, {
      suggestion: origin.startsWith('--pid')
        ? 'check the PID with `ctl status`'
        : 'the file is stale: Puma is not running, or was killed without cleaning up',
    })
  }

  const processes = deps.listProcesses ? await deps.listProcesses() : await processesAround(pid)
  const entry = processes.find((candidate) => candidate.pid === pid)
  if (!entry) {
    const owner = threadGroupOf(pid)
    if (owner !== undefined && owner !== pid)
      throw noMasterError(`${origin}: ${pid} is a thread of process ${owner}, not a process`, {
        suggestion: `pass the process's PID (${owner}) if that is the Puma master`,
      })
    throw noMasterError(`${origin}: process ${pid} is not running`)
  }

  const master = findMasters(processes, -1).find((candidate) => candidate.pid === pid)
  if (master) {
    // The table may describe a process that took over the PID while it was read.
    if (startTicks(pid) !== identity) throw noMasterError(`${origin}: process ${pid} exited while ctl checked it`)
    return {...master, startTicks: identity}
  }

  const worker = parseWorkerTitle(entry.cmd)
  if (worker) {
    throw noMasterError(`${origin}: pid ${pid} is a Puma worker, not the master`, {
      suggestion: `the master is pid ${worker.masterPid}: pass --pid ${worker.masterPid}`,
    })
  }

  throw noMasterError(`${origin}: pid ${pid} (${shortCommand(entry.cmd)}) is not a Puma master`, {
    suggestion: 'the PID may have been reused after Puma exited: remove the stale file, or pass the right --pid',
  })
}

/**
 * Enough of the process table to see a master and all its workers. Usually its own family: when
 * a worker other than 0 is the master's child, the master forks every worker itself, so the family
 * holds them all. Otherwise the whole table: single mode, one worker, untitled 2.x workers, and
 * fork_worker, whose workers 1.. are worker 0's children and live on, orphaned, when it dies.
 */
async function processesAround(pid: number): Promise<ProcessEntry[]> {
  const family = readFamily(pid)
  const forksItsWorkers = family?.some((entry) => {
    const title = parseWorkerTitle(entry.cmd)
    return entry.ppid === pid && title?.masterPid === pid && (title.index ?? 0) > 0
  })
  return forksItsWorkers ? family! : listProcesses()
}

function shortCommand(cmd: string): string {
  return cmd.length > 60 ? `${cmd.slice(0, 60)}…` : cmd || 'no command line'
}
