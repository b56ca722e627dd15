import {controlRequestCommand} from '../cli/control-request-command.js'

export default controlRequestCommand({
  path: 'gc',
  summary: "Run Ruby's garbage collector in the Puma master (control server's /gc).",
  examples: [
    '<%= config.bin %> gc --state tmp/pids/puma.state',
    '<%= config.bin %> gc --control-url tcp://127.0.0.1:9293 --control-token "$TOKEN"',
  ],
  describe: () => 'Puma ran GC.start in the master',
})
