// Mocha's spec reporter, plus a small JSON file with the pass/fail counts so scripts/test.mjs can add them
// into the one closing line.
const fs = require('node:fs');
const Mocha = require('mocha');

class CountingSpecReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const output = options.reporterOptions && options.reporterOptions.output;
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      if (output) {
        fs.writeFileSync(
          output,
          JSON.stringify({ passed: runner.stats.passes, failed: runner.stats.failures }),
        );
      }
    });
  }
}

module.exports = CountingSpecReporter;
