import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {projectRoot} from './paths.js'

/**
 * The recipes of docs/deploy.md as the tests run them: the fenced code block that follows a marker
 * line `<!-- recipe: NAME -->` (invisible when rendered), exactly as the reader sees it. The tests
 * change a recipe only through localised(): the deploy root and the port.
 */

export const DEPLOY_DOC = join(projectRoot, 'docs', 'deploy.md')

/** The code block after `<!-- recipe: NAME -->` in docs/deploy.md. */
export function recipe(name: string): string {
  return recipeIn(readFileSync(DEPLOY_DOC, 'utf8'), name, DEPLOY_DOC)
}

/**
 * The code block after `<!-- recipe: NAME -->` in `markdown`: its lines between the opening fence (the
 * next non-blank line, ``` or longer, with an optional language) and the closing fence of the same
 * length, with a final newline. Throws naming the marker when the marker or its block is missing.
 */
export function recipeIn(markdown: string, name: string, source = 'the document'): string {
  const marker = `<!-- recipe: ${name} -->`
  const lines = markdown.split('\n')
  const at = lines.findIndex((line) => line.trim() === marker)
  if (at === -1) throw new Error(`no "${marker}" in ${source}`)
  if (lines.some((line, index) => index > at && line.trim() === marker)) {
    throw new Error(`"${marker}" appears twice in ${source}`)
  }

  let open = at + 1
  while (open < lines.length && lines[open].trim() === '') open++
  const fence = lines[open]?.match(/^(`{3,}|~{3,})/)?.[1]
  if (!fence) throw new Error(`"${marker}" in ${source} is not followed by a fenced code block`)
  const close = lines.findIndex((line, index) => index > open && line.trimEnd() === fence)
  if (close === -1) throw new Error(`the code block after "${marker}" in ${source} is not closed`)
  return lines.slice(open + 1, close).join('\n') + '\n'
}

/** A recipe for a test's own deploy root and port: every path `/srv/app` and every number 3000 replaced, nothing else. */
export function localised(text: string, place: {port: number; root: string}): string {
  return text.replaceAll(/\/srv\/app(?![\w.-])/g, place.root).replaceAll(/(?<!\d)3000(?!\d)/g, String(place.port))
}
