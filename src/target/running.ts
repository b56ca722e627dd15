import {CtlError} from '../errors.js'
import {appFolderOf} from './app-folder.js'
import {type FindDeps, findTarget} from './find.js'
import {readCwd} from './process-table.js'
import {type TargetSelector} from './selector.js'

/** A Puma master that runs for an app: what `ctl start` refuses to start a second one beside. */
export interface RunningMaster {
  /** Its working folder, as /proc/PID/cwd shows it. */
  folder: string
  /** How it was found: "pidfile tmp/pids/puma.pid", "process scan". */
  origin: string
  pid: number
}

/**
 * The Puma master running for the app in `appDir`, if any, looked for as `ctl status` looks (the
 * default pidfile and state files, else the files the app's Puma config names, else a process
 * scan), then by a scan narrowed to the app's folder: a stale or foreign file, or a config ctl
 * cannot read, hides nothing. A master counts only when its folder is the
 * app's (or a release of the same deploy, app-folder.ts): a master of another app is no reason to
 * refuse. A master whose folder ctl cannot read (another user's) is not seen.
 */
export async function runningMasterOf(
  appDir: string,
  config: Pick<TargetSelector, 'configFile' | 'environment'> = {},
  deps: FindDeps = {},
): Promise<RunningMaster | undefined> {
  const app = appFolderOf(appDir)
  const cwdOf = deps.cwdOf ?? (async (pid: number) => readCwd(pid))
  const ofThisApp = async (pid: number, origin: string): Promise<RunningMaster | undefined> => {
    const folder = await cwdOf(pid)
    return folder !== undefined && appFolderOf(folder) === app ? {pid, folder, origin} : undefined
  }

  // The first look reads the app's Puma config (-F, or pumactl's default files) for its pidfile or state file.
  for (const selector of [
    {cwd: appDir, ...config},
    {cwd: appDir, dir: appDir},
  ] satisfies TargetSelector[]) {
    // eslint-disable-next-line no-await-in-loop -- in order: the second look only when the first found nothing of this app
    const found = await look(selector, deps)
    for (const {pid, origin} of found) {
      // eslint-disable-next-line no-await-in-loop -- few candidates, the first of this app wins
      const running = await ofThisApp(pid, origin)
      if (running) return running
    }
  }

  return undefined
}

/** The masters one look finds: one, several the finder would not choose between, or none (any refusal of ctl's). */
async function look(selector: TargetSelector, deps: FindDeps): Promise<Array<{origin: string; pid: number}>> {
  try {
    const target = await findTarget({...selector, intent: 'look'}, deps)
    return [{pid: target.master.pid, origin: target.origin}]
  } catch (error) {
    if (!(error instanceof CtlError)) throw error
    const candidates = (error.data?.candidates ?? []) as Array<{pid: number}>
    return candidates.map(({pid}) => ({pid, origin: 'process scan'}))
  }
}
