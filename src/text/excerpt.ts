/** Untrusted text (an HTTP body, a file) as one short quoted line for a message. */
export function excerpt(text: string, max: number): string {
  const flat = text.replaceAll(/\s+/g, ' ').trim()
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}…` : flat)
}
