import {controlRequestCommand} from '../cli/control-request-command.js'

export default controlRequestCommand({
  path: 'thread-backtraces',
  summary: "Show every thread's backtrace in the Puma master (control server's /thread-backtraces).",
  examples: [
    '<%= config.bin %> thread-backtraces --state tmp/pids/puma.state',
    '<%= config.bin %> thread-backtraces --control-url unix:///srv/app/tmp/pumactl.sock --control-token "$TOKEN" --json',
  ],
  describe(answer) {
    const threads = Array.isArray(answer) ? (answer as Array<{backtrace?: string[]; name?: string}>) : []
    return threads
      .map((thread) =>
        [thread.name ?? 'Thread: ?', ...(thread.backtrace ?? []).map((frame) => `  ${frame}`)].join('\n'),
      )
      .join('\n\n')
  },
})
