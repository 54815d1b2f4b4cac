// Writes each jest run's counts to test-output/results/ so .ci/run can print one honest summary
// line across every project and target (jest's own output is per run, and Nx runs many), and
// names what failed, so a red run says what broke in its last lines (tools/ci/summary.mjs).
const fs = require('node:fs');
const path = require('node:path');
const { stripVTControlCharacters } = require('node:util');

const resultsDir = process.env.KRAKEN_TEST_RESULTS_DIR || path.join(__dirname, '..', 'test-output', 'results');
// enough to name what broke; a run with more failures is broken wholesale and its output says more
const maxFailedTests = 50;

/** The first non-empty line of a failure message, without colours, cut to one readable line. */
function firstLine(text) {
  const line = stripVTControlCharacters(String(text || ''))
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  return line === undefined ? '' : line.slice(0, 300);
}

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
    const failedTests = results.testResults
      .flatMap((suite) =>
        suite.testResults
          .filter((test) => test.status === 'failed')
          .map((test) => ({
            file: suite.testFilePath,
            title: [...test.ancestorTitles, test.title].join(' › '),
            message: firstLine(test.failureMessages[0]),
          })),
      )
      .slice(0, maxFailedTests);
    // where CI's time goes: each suite's wall time, slowest first
    const suiteSeconds = results.testResults
      .map((suite) => ({ file: suite.testFilePath, seconds: Math.round((suite.perfStats.end - suite.perfStats.start) / 100) / 10 }))
      .filter((suite) => Number.isFinite(suite.seconds))
      .sort((a, b) => b.seconds - a.seconds);
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
          failedTests,
          suiteSeconds,
        },
        null,
        2,
      ),
    );
  }
}

module.exports = ResultsReporter;
