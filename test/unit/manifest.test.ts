import {strict as assert} from 'node:assert'
import {execFileSync} from 'node:child_process'
import {copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {projectRoot} from '../helpers/paths.js'

/**
 * oclif reads oclif.manifest.json on every run: a stale one hides new commands and flags. This
 * regenerates it from the compiled commands in a scratch copy and compares it with the committed one.
 */
describe('oclif.manifest.json', function () {
  this.timeout(30_000)

  it('matches the compiled commands (run `npm run build` when this fails)', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'ctl-manifest-'))
    try {
      copyFileSync(join(projectRoot, 'package.json'), join(scratch, 'package.json'))
      // cp(1): fs.cpSync is still experimental on Node 20.
      execFileSync('cp', ['-R', join(projectRoot, 'dist'), join(scratch, 'dist')])
      symlinkSync(join(projectRoot, 'node_modules'), join(scratch, 'node_modules'))
      execFileSync(process.execPath, [join(projectRoot, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest', '.'], {
        cwd: scratch,
        stdio: 'ignore',
      })
      const fresh = JSON.parse(readFileSync(join(scratch, 'oclif.manifest.json'), 'utf8'))
      const committed = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8'))
      assert.deepEqual(committed, fresh)
    } finally {
      rmSync(scratch, {recursive: true, force: true})
    }
  })

  it('lists every command in src/commands, and the package version', () => {
    const manifest = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8'))
    const sources = readdirSync(join(projectRoot, 'src', 'commands')).map((file) => file.replace(/\.ts$/, ''))
    assert.deepEqual(Object.keys(manifest.commands).sort(), sources.sort())
    assert.equal(manifest.version, JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).version)
  })
})
