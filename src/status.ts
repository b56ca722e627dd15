import {readProcessDetails} from './target/process-table.js'
import {type Target} from './target/find.js'

export interface WorkerStatus {
  index?: number
  pid: number
  startedAt?: string
  uptimeSeconds?: number
  rssBytes?: number
  cpuSeconds?: number
}

export interface ServerStatus {
  pid: number
  version?: string
  mode: 'single' | 'cluster'
  binds: string[]
  tag?: string
  folder?: string
  startedAt?: string
  uptimeSeconds?: number
  rssBytes?: number
  foundBy: string
  workers: WorkerStatus[]
}

/** What the process table says about a verified master and its workers. */
export async function serverStatus(target: Target, now = Date.now()): Promise<ServerStatus> {
  const {master} = target
  const [masterDetails, ...workerDetails] = [master.pid, ...master.workers.map((w) => w.pid)].map((pid) => readProcessDetails(pid))
  const uptime = (startedAt?: Date) => (startedAt ? Math.max(0, Math.round((now - startedAt.getTime()) / 100) / 10) : undefined)
  return {
    pid: master.pid,
    version: master.version,
    mode: master.workers.length > 0 ? 'cluster' : 'single',
    binds: master.binds,
    tag: master.tag,
    folder: masterDetails?.cwd,
    startedAt: masterDetails?.startedAt.toISOString(),
    uptimeSeconds: uptime(masterDetails?.startedAt),
    rssBytes: masterDetails?.rssBytes,
    foundBy: target.origin,
    workers: master.workers.map((worker, i) => {
      const details = workerDetails[i]
      return {
        index: worker.index,
        pid: worker.pid,
        startedAt: details?.startedAt.toISOString(),
        uptimeSeconds: uptime(details?.startedAt),
        rssBytes: details?.rssBytes,
        cpuSeconds: details?.cpuSeconds,
      }
    }),
  }
}
