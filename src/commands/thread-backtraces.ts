import {ControlRequestCommand} from '../control-command.js'

export default class ThreadBacktraces extends ControlRequestCommand {
  static summary = "Show every thread's backtrace in the Puma master (control server's /thread-backtraces)."
  static description = ControlRequestCommand.controlHelp
  static examples = ['<%= config.bin %> thread-backtraces --state tmp/pids/puma.state', '<%= config.bin %> thread-backtraces --control-url unix:///srv/app/tmp/pumactl.sock --control-token "$TOKEN" --json']
  protected readonly path = 'thread-backtraces'
  protected describe(answer: unknown): string {
    const threads = Array.isArray(answer) ? (answer as Array<{name?: string; backtrace?: string[]}>) : []
    return threads.map((thread) => [thread.name ?? 'Thread: ?', ...(thread.backtrace ?? []).map((frame) => `  ${frame}`)].join('\n')).join('\n\n')
  }
}
