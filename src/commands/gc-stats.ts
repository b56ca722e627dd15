import {controlRequestCommand} from '../cli/control-request-command.js'

export default controlRequestCommand({
  path: 'gc-stats',
  summary: "Show the Puma master's Ruby GC.stat (control server's /gc-stats).",
  examples: [
    '<%= config.bin %> gc-stats --state tmp/pids/puma.state',
    '<%= config.bin %> gc-stats --state /srv/app/shared/tmp/pids/puma.state --json',
  ],
  describe: (answer) =>
    Object.entries(answer as Record<string, unknown>)
      .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
      .join('\n'),
})
