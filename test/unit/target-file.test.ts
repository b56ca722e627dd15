import {strict as assert} from 'node:assert'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {CtlError, EXIT} from '../../src/errors.js'
import {readPidfile} from '../../src/target/pidfile.js'
import {readStateFile, readTargetFile} from '../../src/target/state-file.js'

describe('readTargetFile, readPidfile, readStateFile: what ctl reads of a file, and never quotes', () => {
  let dir: string
  const SHADOW = 'root:$6$saltsalt$hashhashhashhashhash:19000:0:99999:7:::\n'
  const secretParts = ['root', '$6$', 'saltsalt', 'hashhash']

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctl-target-file-'))
  })

  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  /** The refusal: exit 3, and neither its message nor its hint holds any part of the secret. */
  async function refusal(read: Promise<unknown>, message: RegExp): Promise<void> {
    await assert.rejects(read, (error: unknown) => {
      assert.ok(error instanceof CtlError, String(error))
      assert.equal(error.exitCode, EXIT.noMaster)
      assert.match(error.message, message)
      const shown = JSON.stringify({message: error.message, suggestion: error.suggestion, data: error.data})
      for (const part of secretParts) assert.ok(!shown.includes(part), `${part} in ${shown}`)
      return true
    })
  }

  it('a pidfile symlinked to a shadow-like file: its size, never its text', async () => {
    writeFileSync(join(dir, 'shadow'), SHADOW)
    symlinkSync(join(dir, 'shadow'), join(dir, 'puma.pid'))
    await refusal(
      readPidfile(join(dir, 'puma.pid'), 'tmp/pids/puma.pid'),
      /^invalid pidfile tmp\/pids\/puma\.pid: not a process id \(not a number: 57 bytes, not shown\)$/,
    )
  })

  it("a state file symlinked to one whose pid is a secret: the value's size, never the value", async () => {
    writeFileSync(join(dir, 'other'), `pid: ${SHADOW}control_url: ${SHADOW}control_auth_token: hashhash\n`)
    symlinkSync(join(dir, 'other'), join(dir, 'puma.state'))
    await refusal(readStateFile(join(dir, 'puma.state'), 'puma.state'), /not a number: 56 bytes, not shown/)
  })

  it('a binary file (not UTF-8), a folder, a FIFO, /dev/zero, a huge file: refused by kind, nothing quoted', async () => {
    writeFileSync(join(dir, 'binary'), Buffer.from([0xff, 0xfe, 0x00, 0x34]))
    await refusal(
      readTargetFile(join(dir, 'binary'), 'pidfile b'),
      /^pidfile b is not one: it is a binary file \(4 bytes, not shown\)$/,
    )
    await refusal(readTargetFile(dir, 'pidfile d'), /^pidfile d is a directory$/)
    execFileSync('mkfifo', [join(dir, 'fifo')])
    // Opening a FIFO for reading would wait for a writer: refused at once instead.
    await refusal(readTargetFile(join(dir, 'fifo'), 'pidfile f'), /^pidfile f is not a regular file$/)
    symlinkSync('/dev/zero', join(dir, 'zero'))
    await refusal(readTargetFile(join(dir, 'zero'), 'pidfile z'), /^pidfile z is not a regular file$/)
    writeFileSync(join(dir, 'huge'), `${SHADOW.repeat(2000)}`)
    await refusal(
      readTargetFile(join(dir, 'huge'), 'state file h'),
      /^state file h is not one: it holds 114000 bytes \(not shown\)$/,
    )
    await refusal(readTargetFile(join(dir, 'none', 'x.pid'), 'pidfile n'), /^pidfile n does not exist$/)
    await refusal(readTargetFile(join(dir, 'huge', 'x.pid'), 'pidfile n'), /^pidfile n does not exist$/)
  })

  it('a plain pidfile still reads', async () => {
    writeFileSync(join(dir, 'ok.pid'), '7013\n')
    assert.equal(await readPidfile(join(dir, 'ok.pid')), 7013)
  })
})
