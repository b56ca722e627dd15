import {noMasterError} from '../errors.js'
import {type Kill, liveness, startTicks} from './liveness.js'
import {listProcesses, type ProcessEntry} from './process-table.js'
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
  if (liveness(pid, deps.kill) === 'gone') {
    throw noMasterError(`${origin}: process ${pid} is not running`, {
      suggestion: origin.startsWith('--pid') ? 'check the PID with `ctl status`' : 'the file is stale: Puma is not running, or was killed without cleaning up',
    })
  }

  const processes = await (deps.listProcesses ?? listProcesses)()
  const entry = processes.find((candidate) => candidate.pid === pid)
  if (!entry) throw noMasterError(`${origin}: process ${pid} is not running`)

  const master = findMasters(processes, -1).find((candidate) => candidate.pid === pid)
  if (master) return {...master, startTicks: startTicks(pid)}

  const worker = parseWorkerTitle(entry.cmd)
  if (worker) {
    throw noMasterError(`${origin}: pid ${pid} is a Puma worker, not the master`, {suggestion: `the master is pid ${worker.masterPid}: pass --pid ${worker.masterPid}`})
  }

  throw noMasterError(`${origin}: pid ${pid} (${shortCommand(entry.cmd)}) is not a Puma master`, {
    suggestion: 'the PID may have been reused after Puma exited: remove the stale file, or pass the right --pid',
  })
}

function shortCommand(cmd: string): string {
  return cmd.length > 60 ? `${cmd.slice(0, 60)}…` : cmd || 'no command line'
}
