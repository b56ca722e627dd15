import {type ChildProcess, spawn} from 'node:child_process'

import {binRun} from './paths.js'

export interface CtlResult {
  code: null | number
  durationMs: number
  signal: NodeJS.Signals | null
  stderr: string
  stdout: string
}

export interface CtlRun {
  child: ChildProcess
  result: Promise<CtlResult>
  /** What ctl has written to stderr so far (its progress lines when not a terminal). */
  stderrSoFar(): string
}

/** Where to run ctl, and as whom (`user`: through runuser, as an operator on another account would). */
export interface CtlOptions {
  bin?: string
  cwd?: string
  detached?: boolean
  env?: NodeJS.ProcessEnv
  user?: string
}

/** Starts `bin/run.js` as a child process, the way a deploy hook runs ctl. */
export function startCtl(args: string[], options: CtlOptions = {}): CtlRun {
  const started = Date.now()
  const command = [process.execPath, options.bin ?? binRun, ...args]
  const [file, ...argv] = options.user ? ['runuser', '-u', options.user, '--', ...command] : command
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env: {...process.env, NO_COLOR: undefined, DEBUG: undefined, ...options.env},
    detached: options.detached,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr!.on('data', (chunk) => {
    stderr += chunk
  })
  const result = new Promise<CtlResult>((resolve) => {
    child.on('close', (code, signal) => resolve({code, signal, stdout, stderr, durationMs: Date.now() - started}))
  })
  return {child, result, stderrSoFar: () => stderr}
}

export async function runCtl(args: string[], options: Omit<CtlOptions, 'detached'> = {}): Promise<CtlResult> {
  return startCtl(args, options).result
}

/** The one JSON object ctl prints on stdout with --json. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test reads the fields it checks
export function jsonOf(result: CtlResult): any {
  try {
    return JSON.parse(result.stdout)
  } catch {
    throw new Error(`stdout is not one JSON object (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`)
  }
}
