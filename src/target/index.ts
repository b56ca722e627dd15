/**
 * Finding the Puma master, and the checks that keep ctl from signalling anything else.
 *
 * "Which master" is a TargetSelector (selector.ts); reach() turns it into a Reach: the verified
 * master (with its control server when known), or, given only a control URL, that server alone, to
 * which no signal is ever sent.
 *
 * The PID-safety checks, in the order they run:
 *  1. pid.ts parsePid: --pid, a pidfile's and a state file's pid must be digits only and between 2
 *     and 4 194 304; 0 (our process group), -1 (every process) and 1 (init) are refused before any
 *     kill(), even kill(pid, 0).
 *  2. pidfile.ts readPidfile, state-file.ts readStateFile (both through readTargetFile): a missing,
 *     unreadable, non-regular, binary or oversized file is a clear exit 3; the content goes through
 *     parsePid, which quotes back only a short number (text/untrusted.ts); a state file is read as
 *     text, never as YAML (parseStateFile), and its first pid wins.
 *  3. scan.ts findMasters (only without --pid, --pidfile, --state or a default file): masters by
 *     title (titles.ts parseMasterTitle); an untitled 2.0–2.7 master only if one of the workers
 *     naming it is really its child (an orphan's title may name a reused PID), or if its program is
 *     puma itself (titles.ts isUntitledPumaCommand). find.ts fromScan then narrows by --dir (both
 *     sides resolved now; another release of the same deploy, app-folder.ts) and --tag and
 *     refuses to guess between several, unless exactly one runs from the current folder. A scan
 *     is for looking: unless the selector's intent is 'look' (status), trust.ts assertScanMayAct
 *     refuses a master not running from the current folder's app and named by no --dir (--tag:
 *     only the caller's own user's master).
 *  4. verify.ts verifyMaster, for every source: liveness.ts liveness (kill(pid, 0), then a zombie
 *     counts as gone); the PID must be a process, not a thread (process-table.ts threadGroupOf); it
 *     must be a Puma master by title or by family in the process table around it (processesAround,
 *     read from process-table.ts readFamily), not a worker and not another program. Its start time
 *     (liveness.ts startTicks), read before these checks and compared after them, is recorded: with
 *     the PID it names one process.
 *  5. find.ts assertWrittenByIt: a pidfile or state file written before that process started (2 s
 *     slack) is stale, its PID reused by another process, maybe another app's Puma. Of the default
 *     files, a stale one is passed over (with a warning on the Target) for the next.
 *     trust.ts assertFileNamesIt: the file must be owned by the master's user or root, and belong
 *     to the master's app (app-folder.ts); see there for a file in no app's folder.
 *  6. signals.ts sendSignal, at the moment of sending: the PID is checked again (a safe integer
 *     above 1), and liveness.ts hasExited(pid, startTicks) refuses a master that has exited or whose
 *     PID now names another process; EPERM becomes exit 4, ESRCH exit 3.
 *
 * Some commands then refuse signals Puma would not take as meant (actions/): SIGPWR before Puma 8
 * (info.ts), SIGHUP without stdout_redirect (reopen-logs.ts), SIGTTIN/SIGTTOU in single mode
 * (worker-count.ts); a refork Puma says it cannot do (restart/preflight.ts).
 */
export {controlOnly, findControl, requireControl} from './endpoint.js'
export {DEFAULT_TARGET_FILES, type FindDeps, findTarget, type Target} from './find.js'
export {controlFor, masterOf, type Reach, reach, viaFor} from './reach.js'
export {MASTER_KEYS, namesMaster, type TargetSelector} from './selector.js'
