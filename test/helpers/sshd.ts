import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {projectRoot} from './paths.js'
import {freePort, isAlive, killQuietly, readOrEmpty, waitFor} from './processes.js'

/**
 * A real sshd on 127.0.0.1 for the deploy-recipe tests (issue 15): its own config, host key and client
 * key in a temporary folder, key-only login for one dedicated local user, whose PATH finds `ctl` (this
 * checkout's bin/run.js), node, ruby, puma, git and bundle. Nothing is installed globally: no file in
 * /etc or /usr/local is written (the user itself is created with useradd when missing, as
 * target-trust.test.ts creates its users).
 */

export interface Sshd {
  /** On the remote user's PATH first: holds `ctl` (and `node`, linked to the node running the tests). */
  binDir: string
  /** The remote user's home. */
  home: string
  host: '127.0.0.1'
  /** The client's private key, accepted for `user` only. */
  keyFile: string
  /** ssh's known_hosts file naming this sshd's host key for [127.0.0.1]:port. */
  knownHostsFile: string
  port: number
  /** ssh's options for this server, before the destination: `ssh ...sshOptions user@127.0.0.1 CMD`. */
  sshOptions: string[]
  /** Stops sshd, every session it still serves, and removes the temporary folder. */
  stop(): Promise<void>
  user: string
}

export const DEFAULT_SSH_USER = 'ctldeploy'

/** Why this machine cannot run the sshd of startSshd as `user`, or undefined when it can (print it and skip). */
export function sshdUnavailable(user = DEFAULT_SSH_USER): string | undefined {
  if (process.getuid?.() !== 0) return 'an sshd that logs in another user needs root'
  for (const tool of ['/usr/sbin/sshd', '/usr/bin/ssh-keygen', '/usr/bin/ssh']) {
    if (!existsSync(tool)) return `no ${tool} (Debian: openssh-server, openssh-client)`
  }

  if (!ensureUser(user)) return `cannot create the local user ${user}: no useradd`
  return undefined
}

export async function startSshd(options: {user?: string} = {}): Promise<Sshd> {
  const user = options.user ?? DEFAULT_SSH_USER
  const why = sshdUnavailable(user)
  if (why) throw new Error(`cannot start sshd: ${why}`)
  const home = passwdEntry(user)[5]
  // sshd reads authorized_keys as the user, and the user runs binDir's wrapper: the folder must be
  // passable by others (mkdtemp makes it 0700); the private keys in it stay 0600, root's.
  const dir = mkdtempSync(join(tmpdir(), 'ctl-sshd-'))
  chmodSync(dir, 0o755)
  const binDir = join(dir, 'bin')
  mkdirSync(binDir, {mode: 0o755})
  const port = await freePort()
  const hostKey = join(dir, 'ssh_host_ed25519_key')
  const keyFile = join(dir, 'id_ed25519')
  for (const key of [hostKey, keyFile])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', key])
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${keyFile}.pub`), {mode: 0o644})
  const knownHostsFile = join(dir, 'known_hosts')
  writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${readFileSync(`${hostKey}.pub`, 'utf8')}`)
  writeCtlWrapper(binDir, user, dir)
  symlinkSync(process.execPath, join(binDir, 'node'))
  const config = join(dir, 'sshd_config')
  writeFileSync(config, sshdConfig({dir, hostKey, port, user, binDir}))
  // sshd's privilege separation chroots into /run/sshd; a container without the service lacks it
  mkdirSync('/run/sshd', {recursive: true, mode: 0o755})

  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], {stdio: ['ignore', 'ignore', 'pipe']})
  await listening(child, port)
  return {
    binDir,
    host: '127.0.0.1',
    home,
    keyFile,
    knownHostsFile,
    port,
    sshOptions: [
      '-i',
      keyFile,
      '-p',
      String(port),
      '-o',
      `UserKnownHostsFile=${knownHostsFile}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
    ],
    async stop() {
      const sessions = descendantsOf(child.pid!)
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => {
          child.once('exit', resolve)
        })
        child.kill('SIGTERM')
        await exited
      }

      // a session's own sshd survives the listener's SIGTERM: end the ones still there, by PID
      for (const pid of sessions) killQuietly(pid, 'SIGTERM')
      await waitFor(
        () => !sessions.some((pid) => isAlive(pid)),
        5000,
        () => `sshd sessions ${sessions} to exit`,
      )
      rmSync(dir, {recursive: true, force: true})
    },
    user,
  }
}

function sshdConfig(settings: {binDir: string; dir: string; hostKey: string; port: number; user: string}): string {
  const {binDir, dir, hostKey, port, user} = settings
  // Non-interactive sessions read no profile: SetEnv is what puts ctl (binDir) first on the PATH.
  const path = [binDir, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':')
  return [
    `ListenAddress 127.0.0.1:${port}`,
    `HostKey ${hostKey}`,
    'PidFile none',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    // the temporary folder sits in /tmp (world-writable), which StrictModes would refuse
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PermitRootLogin no',
    `AllowUsers ${user}`,
    `SetEnv PATH=${path}`,
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n')
}

/** Resolves once sshd's "Server listening on 127.0.0.1 port N." is on its stderr; rejects with its stderr if it exits first. */
async function listening(child: ChildProcess, port: number): Promise<void> {
  let stderr = ''
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk
      if (stderr.includes(`listening on 127.0.0.1 port ${port}`)) resolve()
    })
    child.once('exit', (code) => reject(new Error(`sshd exited ${code} before listening:\n${stderr}`)))
  })
}

/** getent's passwd fields of `user` (name, password, uid, gid, gecos, home, shell). */
function passwdEntry(user: string): string[] {
  return execFileSync('getent', ['passwd', user], {encoding: 'utf8'}).trim().split(':')
}

/**
 * Whether `user` exists; created with a home and bash when it does not, if useradd is there. Its password
 * is `*` (no password, not locked): with UsePAM no, sshd refuses even key logins to a locked (`!`) account.
 */
function ensureUser(user: string): boolean {
  try {
    passwdEntry(user)
  } catch {
    try {
      execFileSync('useradd', ['-m', '-s', '/bin/bash', '-p', '*', user], {stdio: 'ignore'})
    } catch {
      return false
    }
  }

  try {
    const shadow = execFileSync('getent', ['shadow', user], {encoding: 'utf8'}).split(':')[1]
    if (shadow.startsWith('!')) execFileSync('usermod', ['-p', '*', user], {stdio: 'ignore'})
  } catch {}

  return true
}

/** What bin/run.js needs at run time. */
const RUNTIME = ['bin', 'dist', 'node_modules', 'package.json', 'oclif.manifest.json']

/**
 * Writes binDir/ctl, running this checkout's bin/run.js with this node. CI clones under /root or a
 * private /tmp folder, which other users cannot pass through: when `user` cannot run it there, the
 * wrapper runs a copy of what bin/run.js needs in the temporary folder instead: hard links where the
 * file system allows (fast and small; npm's files are readable, only their folder's path was not),
 * else a real copy made readable (a chmod on hard links would change the checkout's own files).
 */
function writeCtlWrapper(binDir: string, user: string, dir: string): void {
  const wrapper = join(binDir, 'ctl')
  const write = (checkout: string) => {
    writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' '${join(checkout, 'bin', 'run.js')}' "$@"\n`)
    chmodSync(wrapper, 0o755)
    return runsAs(user, wrapper)
  }

  if (write(projectRoot)) return
  const copy = join(dir, 'checkout')
  for (const how of [['--link'], []]) {
    rmSync(copy, {recursive: true, force: true})
    mkdirSync(copy, {mode: 0o755})
    try {
      for (const entry of RUNTIME) {
        execFileSync('cp', ['-a', ...how, realpathSync(join(projectRoot, entry)), join(copy, entry)], {stdio: 'ignore'})
      }
    } catch {
      continue // no hard links across file systems: copy
    }

    if (how.length === 0) execFileSync('chmod', ['-R', 'go+rX', copy])
    if (write(copy)) return
  }

  throw new Error(`${user} cannot run ${wrapper}, not even from a copy of the checkout in ${copy}`)
}

/** Whether `user` can run `ctl --version` through the wrapper (as that user, by runuser). */
function runsAs(user: string, wrapper: string): boolean {
  try {
    execFileSync('runuser', ['-u', user, '--', wrapper, '--version'], {cwd: '/', stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/** Every process below `pid` (by /proc's parent links), deepest last. */
function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const parent = Number(
      readOrEmpty(`/proc/${entry}/stat`)
        .replace(/^.*\) \S+ /, '')
        .split(' ')[0],
    )
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
  }

  const found: number[] = []
  const queue = [pid]
  while (queue.length > 0) {
    const next = children.get(queue.shift()!) ?? []
    found.push(...next)
    queue.push(...next)
  }

  return found
}
