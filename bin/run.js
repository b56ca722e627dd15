#!/usr/bin/env node
import {execute} from '../dist/ctl.js'

await execute({dir: import.meta.url})
