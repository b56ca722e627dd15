import {type ProcessEntry} from './process-table.js'
import {isUntitledPumaCommand, parseMasterTitle, parseWorkerTitle} from './titles.js'

export interface WorkerProcess {
  /** Undefined for Puma 2.0–2.7 workers, whose title carries no index. */
  index?: number
  pid: number
  tag?: string
}

export interface PumaMaster {
  binds: string[]
  cmd: string
  pid: number
  /** When it started (clock ticks since boot), set once verified: a reused PID is another process. */
  startTicks?: number
  tag?: string
  /** Undefined when the master set no title (Puma 2.0–2.7). */
  version?: string
  workers: WorkerProcess[]
}

/**
 * The Puma masters in a process table (a pure function, tested over recorded tables). A master is a
 * process with Puma's master title, an untitled 2.0–2.7 master named by its workers' titles, or an
 * untitled puma program (2.x single mode). `excludePid` is ctl itself.
 */
export function findMasters(processes: ProcessEntry[], excludePid = process.pid): PumaMaster[] {
  const ppidOf = new Map(processes.map((entry) => [entry.pid, entry.ppid]))
  const workersByMaster = new Map<number, WorkerProcess[]>()
  for (const entry of processes) {
    const title = parseWorkerTitle(entry.cmd)
    if (!title) continue
    const list = workersByMaster.get(title.masterPid) ?? []
    list.push({pid: entry.pid, index: title.index, tag: title.tag})
    workersByMaster.set(title.masterPid, list)
  }

  const masters: PumaMaster[] = []
  for (const entry of processes) {
    if (entry.pid === excludePid || parseWorkerTitle(entry.cmd)) continue
    const title = parseMasterTitle(entry.cmd)
    const workers = (workersByMaster.get(entry.pid) ?? []).sort((a, b) => (a.index ?? a.pid) - (b.index ?? b.pid))
    if (title) masters.push({pid: entry.pid, cmd: entry.cmd, ...title, workers})
    // A worker's title names its master, but an orphaned worker names a PID that may since have been
    // reused: an untitled process counts only if one of those workers is really its child.
    else if (workers.some((worker) => ppidOf.get(worker.pid) === entry.pid) || isUntitledPumaCommand(entry.argv))
      masters.push({pid: entry.pid, cmd: entry.cmd, binds: [], workers})
  }

  return masters
}
