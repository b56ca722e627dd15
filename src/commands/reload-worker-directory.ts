import {controlRequestCommand} from '../cli/control-request-command.js'

export default controlRequestCommand({
  path: 'reload-worker-directory',
  summary:
    "Make the Puma master change to its restart folder, so later workers load the new release (control server's /reload-worker-directory).",
  examples: ['<%= config.bin %> reload-worker-directory --state /srv/app/shared/tmp/pids/puma.state'],
  describe: () => 'Puma changed to its restart folder: workers started from now on load the code there',
})
