import {PUMA_CONFIGURATION_PRELUDE, type RunProcess, runProcess} from '../target/config-ruby.js'
import {type BootPlan} from './boot-plan.js'

/**
 * The release loaded as the master's hot restart will load it, in a throwaway Ruby: Puma's config
 * (Puma's own default files, or `configFile`), then the rack app (`config.app`, which parses
 * config.ru and requires the app). Nothing binds, forks or writes Puma's files: no Launcher, no
 * runner, and `plugin` is a no-op. The app's own output goes to stderr, which is dropped; the
 * exception and its backtrace are the result. `exit!` skips the app's at_exit hooks.
 */
export const BOOT_CHECK_SCRIPT =
  PUMA_CONFIGURATION_PRELUDE +
  String.raw`
lib, config_file = ARGV
result = begin
  config = ctl_puma_configuration(lib, config_file.to_s.empty? ? [] : [config_file])
  config.load
  config.clamp
  dir = config.options[:directory]
  Dir.chdir(dir) if dir.is_a?(String) && !dir.empty?
  if !config.options[:app] && !File.exist?(config.rackup.to_s) && config.config_files.compact.empty?
    {unknown: "no config file and no #{config.rackup} in #{Dir.pwd}"}
  else
    config.app
    {ok: Puma::Const::PUMA_VERSION}
  end
rescue Exception => e
  {error: "#{e.class}: #{e.message}"[0, 2000], backtrace: (e.backtrace || []).first(20)}
end
out.write(JSON.generate(result))
out.flush
exit! 0
`

/** The most a check may print before it is killed: the error and its backtrace fit easily. */
const MAX_OUTPUT = 256 * 1024
/** The lines of a failure shown: the exception and the first of its backtrace (or the command's last output). */
const MAX_LINES = 20

export interface BootCheckOptions {
  /** --check-command: the user's own check, run with `sh -c` in the app folder; exit status 0 passes. */
  command?: string
  /** ctl's -F: the config file the master was started with, when Puma's default files are not it. */
  configFile?: string
  /** Ctrl-C: the check is killed at once (the caller then sends nothing). */
  signal?: AbortSignal
  timeoutMs: number
}

export interface BootCheckResult {
  durationMs: number
  /** The failure in one line (the exception, or how the command ended). */
  error?: string
  /** The folder the release was loaded from. */
  folder?: string
  how: 'command' | 'puma'
  lines: string[]
  linesOmitted: number
  ok: boolean
  /** The Puma the check loaded (it may differ from the master's when ctl could not find the master's). */
  pumaVersion?: string
  /** Set when no check could be run: ctl then says so and goes ahead. */
  unavailable?: string
  warnings: string[]
}

/** Runs the check of `plan`; `now` times it. */
export async function runBootCheck(
  plan: BootPlan,
  options: BootCheckOptions,
  {now = Date.now, run = runProcess}: {now?: () => number; run?: RunProcess} = {},
): Promise<BootCheckResult> {
  const how = options.command === undefined ? 'puma' : 'command'
  const args =
    options.command === undefined
      ? [plan.ruby, '-e', BOOT_CHECK_SCRIPT, '--', plan.pumaLib ?? '', options.configFile ?? '']
      : ['/bin/sh', '-c', `exec 2>&1\n${options.command}`]
  const [command, ...rest] = privileged(plan, args)
  const started = now()
  const result = await run(command, rest, {
    cwd: plan.folder,
    env: plan.env,
    maxBytes: MAX_OUTPUT,
    signal: options.signal,
    timeoutMs: options.timeoutMs,
  })
  const base = {durationMs: now() - started, folder: plan.folder, how, warnings: plan.warnings} as const
  if (result.timedOut)
    return failed(
      base,
      `it did not finish within ${options.timeoutMs / 1000} s (a boot that hangs would hang the master too)`,
      [],
    )
  if (how === 'command') {
    const lines = result.stdout.split('\n').filter((line) => line.trim() !== '')
    if (result.code === 0 && !result.overflow) return {...base, lines: [], linesOmitted: 0, ok: true}
    const ended = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.code}`
    return failed(base, `${options.command} ${ended}`, lines.slice(-MAX_LINES), Math.max(0, lines.length - MAX_LINES))
  }

  return fromScript(base, result)
}

function fromScript(base: Base, result: Awaited<ReturnType<RunProcess>>): BootCheckResult {
  let parsed: {backtrace?: unknown; error?: unknown; ok?: unknown; unknown?: unknown}
  try {
    parsed = JSON.parse(result.stdout) ?? {}
  } catch {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.code}`
    return failed(base, `Ruby ${how} before it told whether the release loads`, [])
  }

  if (typeof parsed.ok === 'string') return {...base, lines: [], linesOmitted: 0, ok: true, pumaVersion: parsed.ok}
  if (typeof parsed.unknown === 'string')
    return {...base, lines: [], linesOmitted: 0, ok: true, unavailable: `ctl found no app to load: ${parsed.unknown}`}
  const error = typeof parsed.error === 'string' ? parsed.error : 'an unknown failure'
  const trace = Array.isArray(parsed.backtrace)
    ? parsed.backtrace.filter((l): l is string => typeof l === 'string')
    : []
  const [first, ...more] = error.split('\n')
  const lines = [...more, ...trace.map((line) => `    from ${line}`)]
  return failed(base, first, lines.slice(0, MAX_LINES), Math.max(0, lines.length - MAX_LINES))
}

type Base = Pick<BootCheckResult, 'durationMs' | 'folder' | 'how' | 'warnings'>

function failed(base: Base, error: string, lines: string[], linesOmitted = 0): BootCheckResult {
  return {...base, error, lines, linesOmitted, ok: false}
}

/** As the master's user and groups: setpriv when ctl (root) must drop to them. */
function privileged(plan: BootPlan, args: string[]): string[] {
  if (plan.runAs.kind === 'self') return args
  const {gid, groups, uid} = plan.runAs
  const groupArgs = groups && groups.length > 0 ? `--groups=${groups.join(',')}` : '--clear-groups'
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, groupArgs, '--', ...args]
}
