import {includeIgnoreFile} from '@eslint/compat'
import oclif from 'eslint-config-oclif'
import prettier from 'eslint-config-prettier'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const gitignore = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '.gitignore')

// The house lint: eslint-config-oclif, with prettier (.prettierrc.json) owning the layout.
export default [
  includeIgnoreFile(gitignore),
  ...oclif,
  prettier,
  {
    rules: {
      // Key order is evaluation order (now(), awaits) and the order of --json's fields: never sorted by a fixer.
      'perfectionist/sort-objects': 'off',
      // TypeScript wants some undefineds spelt out (optional parameters, union returns); its fixer breaks the build.
      'unicorn/no-useless-undefined': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {complexity: ['error', 20]},
  },
]
