import {type RestartPlan} from '../../src/restart/machine.js'

/** When the restarts of the log fixtures begin (the machine's clock). */
export const T0 = 1_000_000

/** The puma-6.0-boot-failure.log fixture's master and workers, as ctl knew them before the signal. */
export function fixturePlan(overrides: Partial<RestartPlan> = {}): RestartPlan {
  return {
    kind: 'phased',
    masterPid: 21_500,
    mode: 'cluster',
    workers: 2,
    oldWorkers: [
      {index: 0, pid: 21_510},
      {index: 1, pid: 21_511},
    ],
    previousPhase: 0,
    startedAt: T0,
    timeoutMs: 60_000,
    ...overrides,
  }
}
