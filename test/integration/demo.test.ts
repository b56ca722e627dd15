import {strict as assert} from 'node:assert'
import {execFile} from 'node:child_process'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {projectRoot} from '../helpers/paths.js'

/** The README's first screen runs `npm run demo`: it must keep working (short windows here). */
describe('npm run demo (examples/demo.js)', function () {
  this.timeout(120_000)

  it('restarts the bundled example app under load, both ways, and reports what clients saw', async () => {
    const {stdout} = await promisify(execFile)(process.execPath, [join(projectRoot, 'examples', 'demo.js')], {
      cwd: projectRoot,
      env: {
        ...process.env,
        DEMO_WINDOW_S: '3',
        DEMO_RESTART_AT_S: '1',
        DEMO_AFTER_S: '1',
        APP_BOOT_SECONDS: '0',
      },
    })
    assert.match(stdout, /^ctl: Hot restart finished in /m)
    assert.match(stdout, /^ctl: Phased restart finished in .*: phase 1, 3\/3 workers booted/m)
    assert.match(stdout, /^\| phased restart +\| +\d+ \|/m)
    assert.match(stdout, /^Stopped Puma \(master \d+ and its workers\)/m)
  })
})
