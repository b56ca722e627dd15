import {changeWorkerCount} from '../actions/worker-count.js'
import {defineCommand} from '../cli/command.js'
import {selectorOf, TARGET_HELP, targetFlags} from '../cli/flags.js'
import {findTarget} from '../target/index.js'

/** worker-count-up and -down differ only in the direction (and their help). */
export const workerCountCommand = (direction: 'down' | 'up', help: {examples: string[]; summary: string}) =>
  defineCommand({
    ...help,
    description: `In single mode Puma does not trap ${direction === 'up' ? 'SIGTTIN' : 'SIGTTOU'} and the signal would suspend it, so ctl refuses (exit 2).

${TARGET_HELP}`,
    flags: {...targetFlags},

    async run(flags, {log, note}) {
      const target = await findTarget(selectorOf(flags))
      for (const warning of target.warnings ?? []) note(`Warning: ${warning}`)
      const result = changeWorkerCount(target, direction)
      log(
        `Sent ${result.signal} to Puma master ${result.pid}: workers ${result.workersBefore} → ${result.workersBefore + (direction === 'up' ? 1 : -1)}`,
      )
      return result
    },
  })

export default workerCountCommand('up', {
  summary: 'Add one worker (SIGTTIN). Cluster mode only.',
  examples: [
    '<%= config.bin %> worker-count-up --pidfile tmp/pids/puma.pid',
    '<%= config.bin %> worker-count-up --tag myapp --json',
  ],
})
