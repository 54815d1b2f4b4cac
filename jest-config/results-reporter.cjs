// Writes each jest run's counts to test-output/results/ so .ci/run can print one honest summary
// line across every project and target (jest's own output is per run, and Nx runs many).
const fs = require('node:fs');
const path = require('node:path');

const resultsDir = process.env.KRAKEN_TEST_RESULTS_DIR || path.join(__dirname, '..', 'test-output', 'results');

class ResultsReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
  }

  onRunComplete(_contexts, results) {
    const config = path.relative(path.join(__dirname, '..'), this.globalConfig.rootDir).replace(/[\\/]/g, '_') || 'root';
    const kind = process.env.KRAKEN_TEST_KIND || 'test';
    fs.mkdirSync(resultsDir, { recursive: true });
    const failedSuites = results.testResults
      .filter((suite) => suite.testExecError || (suite.failureMessage && suite.numFailingTests === 0))
      .map((suite) => ({ file: suite.testFilePath, message: (suite.testExecError && suite.testExecError.message) || suite.failureMessage }));
    fs.writeFileSync(
      path.join(resultsDir, `${config}.${kind}.json`),
      JSON.stringify(
        {
          project: config,
          kind,
          passed: results.numPassedTests,
          failed: results.numFailedTests,
          skipped: results.numPendingTests + results.numTodoTests,
          // a suite that failed to load or crashed outside a test counts as one failure
          brokenSuites: failedSuites.length,
          failedSuites,
        },
        null,
        2,
      ),
    );
  }
}

module.exports = ResultsReporter;
