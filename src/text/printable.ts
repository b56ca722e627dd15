/**
 * Control characters (C0 but tab, DEL and C1) in text from outside ctl: log lines, process titles,
 * remote answers. Printed raw they drive the terminal (an ESC sequence can erase ctl's "Error:" line
 * and draw a fake success); in --json they survive a `jq -r`. Shown as `\xNN` instead.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F-\u009F]/g
// eslint-disable-next-line no-control-regex -- the same, keeping newlines
const CONTROL_BUT_NEWLINE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g

/** For JSON.stringify: every string printable (newlines kept: JSON escapes them, and `jq -r` may print them). */
export function printableJson(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? printable(value, {keepNewlines: true}) : value
}

export function printable(text: string, {keepNewlines = false}: {keepNewlines?: boolean} = {}): string {
  return text.replaceAll(
    keepNewlines ? CONTROL_BUT_NEWLINE : CONTROL,
    (char) => `\\x${char.codePointAt(0)!.toString(16).padStart(2, '0')}`,
  )
}
