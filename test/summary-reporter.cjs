// mocha's spec output, closed by the plain "N passed, N failed" line that CI reads.
// CommonJS: mocha loads a reporter with require(), which cannot load an ES module on Node 20.
/* global module, require */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
const Mocha = require('mocha')

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    runner.once('end', () => {
      const {passes, failures, pending} = runner.stats
      console.log(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`)
    })
  }
}

module.exports = SummaryReporter
