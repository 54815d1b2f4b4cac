// tools/ci/summary.mjs as CI runs it: a child process reading result files and flags. What matters
// is the end of its output, which is all a reader of a red CI run sees.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';

const script = path.join(__dirname, 'summary.mjs');
const repoRoot = path.resolve(__dirname, '..', '..');
const execFileAsync = promisify(execFile);

interface Summary {
  code: number;
  lines: string[];
}

let dir: TempDir;
let results: string;

beforeEach(async () => {
  dir = await tempDir('kraken-summary-');
  results = path.join(dir.path, 'results');
  await mkdir(results);
});

afterEach(async () => {
  await dir.remove();
});

async function summary(...args: string[]): Promise<Summary> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [script, '--results', results, ...args]);
    return { code: 0, lines: stdout.trimEnd().split('\n') };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, lines: failed.stdout.trimEnd().split('\n') };
  }
}

function writeResult(name: string, result: Record<string, unknown>): Promise<void> {
  return writeFile(
    path.join(results, `${name}.json`),
    JSON.stringify({ passed: 0, failed: 0, skipped: 0, brokenSuites: 0, failedSuites: [], ...result }),
  );
}

/** The lines between the "Failures (N):" heading and the blank line before the summary line. */
function failureBlock(lines: string[]): string[] {
  const start = lines.findIndex((line) => /^Failures \(\d+\):$/.test(line));
  if (start < 0) return [];
  return lines.slice(start, lines.length - 2);
}

describe('tools/ci/summary.mjs', () => {
  it('sums jest results and passed steps into the last line, and lists the passed steps with their labels', async () => {
    await writeResult('packages_common.test', { project: 'packages_common', kind: 'test', passed: 12 });
    await writeResult('tools.integration', { project: 'tools', kind: 'integration', passed: 3 });

    const { code, lines } = await summary('--passed-step', 'bench broker (ratio AmqpBroker/raw: 81.0%)', '--passed-step', 'live Kraken');

    expect(code).toBe(0);
    expect(lines.at(-1)).toBe('17 passed, 0 failed');
    expect(lines).toContain('  bench broker (ratio AmqpBroker/raw: 81.0%)');
    expect(failureBlock(lines)).toEqual([]);
  });

  it('lists the slowest suites across projects, slowest first, and leaves the last line to the counts', async () => {
    const spec = (name: string) => path.join(repoRoot, 'tools', 'cluster', name);
    await writeResult('tools.integration', {
      project: 'tools',
      kind: 'integration',
      passed: 2,
      suiteSeconds: [{ file: spec('a.int.spec.ts'), seconds: 300.5 }, { file: spec('b.int.spec.ts'), seconds: 12 }],
    });
    await writeResult('apps_ui.integration', { project: 'apps_ui', kind: 'integration', passed: 1, suiteSeconds: [{ file: spec('c.int.spec.ts'), seconds: 90 }] });
    // results written before suites were timed have none, and add nothing
    await writeResult('packages_common.test', { project: 'packages_common', kind: 'test', passed: 4 });

    const { code, lines } = await summary();

    expect(code).toBe(0);
    const start = lines.indexOf('Slowest suites (wall time):');
    expect(lines.slice(start + 1, start + 4)).toEqual([
      '    300.5 s  tools/cluster/a.int.spec.ts (integration)',
      '     90.0 s  tools/cluster/c.int.spec.ts (integration)',
      '     12.0 s  tools/cluster/b.int.spec.ts (integration)',
    ]);
    expect(lines.at(-1)).toBe('7 passed, 0 failed');
  });

  it('names each failing test with its title, file and first error line just before the last line', async () => {
    const file = path.join(repoRoot, 'tools', 'e2e', 'api.int.spec.ts');
    await writeResult('tools.integration', {
      project: 'tools',
      kind: 'integration',
      passed: 5,
      failed: 2,
      failedTests: [
        { file, title: 'the original client › creates a deployment', message: 'expect(received).toEqual(expected)' },
        { file, title: 'the original client › serves its log', message: '' },
      ],
    });

    const { code, lines } = await summary();

    expect(code).toBe(1);
    expect(lines.at(-1)).toBe('5 passed, 2 failed');
    expect(failureBlock(lines)).toEqual([
      'Failures (2):',
      '  FAIL the original client › creates a deployment (tools/e2e/api.int.spec.ts, integration): expect(received).toEqual(expected)',
      '  FAIL the original client › serves its log (tools/e2e/api.int.spec.ts, integration)',
    ]);
  });

  it('lists broken suites, failed steps and failed nx tasks, one count each', async () => {
    await writeResult('apps_agent.test', {
      project: 'apps_agent',
      kind: 'test',
      passed: 4,
      brokenSuites: 1,
      failedSuites: [{ file: path.join(repoRoot, 'apps/agent/src/cli.spec.ts'), message: '\u001b[31mCannot find module x\u001b[39m\nstack' }],
    });
    const nxLog = path.join(dir.path, 'nx.log');
    await writeFile(nxLog, '\n NX   Ran target lint for 3 projects\n\nFailed tasks:\n\n- agent:lint\n');

    const { code, lines } = await summary('--nx-log', nxLog, '--failed-step', 'bench logs (exit 1)', '--passed-step', 'bench api');

    expect(code).toBe(1);
    expect(lines.at(-1)).toBe('5 passed, 3 failed');
    expect(failureBlock(lines)).toEqual([
      'Failures (3):',
      '  BROKEN SUITE apps/agent/src/cli.spec.ts (test): Cannot find module x',
      '  agent:lint failed',
      '  step failed: bench logs (exit 1)',
    ]);
  });

  it('says how many failing tests a result counts without naming them', async () => {
    await writeResult('packages_worker.integration', { project: 'packages_worker', kind: 'integration', passed: 1, failed: 3 });

    const { lines } = await summary();

    expect(failureBlock(lines)).toEqual(['Failures (3):', '  FAIL 3 more test(s) in packages_worker (integration): see its jest output above']);
    expect(lines.at(-1)).toBe('1 passed, 3 failed');
  });

  it('appends skipped tests to the last line only when there are some', async () => {
    await writeResult('packages_common.test', { project: 'packages_common', kind: 'test', passed: 2, skipped: 1 });

    expect((await summary()).lines.at(-1)).toBe('2 passed, 0 failed, 1 skipped');
  });

  it('names the failing tests of a real jest run through the results reporter', async () => {
    // a project of its own, plain JS so that no transform is involved
    const project = path.join(dir.path, 'project');
    await mkdir(project);
    await writeFile(
      path.join(project, 'sample.spec.js'),
      "describe('sample', () => {\n  it('passes', () => {});\n  it('adds up', () => { expect(1 + 1).toBe(3); });\n});\n",
    );
    const reporter = path.join(repoRoot, 'jest-config', 'results-reporter.cjs');
    const config = path.join(project, 'jest.config.json');
    await writeFile(config, JSON.stringify({ rootDir: project, testMatch: ['**/*.spec.js'], transform: {}, reporters: [reporter] }));
    await execFileAsync(process.execPath, [require.resolve('jest/bin/jest'), '--config', config, '--ci'], {
      cwd: project,
      env: { ...process.env, KRAKEN_TEST_RESULTS_DIR: results, KRAKEN_TEST_KIND: 'test' },
    }).catch((error: unknown) => {
      // jest exits 1 for the failing test; anything else means it did not run
      if ((error as { code?: number }).code !== 1) throw error;
    });

    const { code, lines } = await summary();

    expect(code).toBe(1);
    expect(lines.at(-1)).toBe('1 passed, 1 failed');
    const [heading, failure] = failureBlock(lines);
    expect(heading).toBe('Failures (1):');
    expect(failure).toMatch(/^ {2}FAIL sample › adds up \(\/.+\/project\/sample\.spec\.js, test\): (Error: )?expect\(received\)\.toBe\(expected\)/);
    // the reporter timed the suite, for the slowest-suites list
    expect(lines).toContainEqual(expect.stringMatching(/^ +\d+\.\d s {2}\/.+\/project\/sample\.spec\.js \(test\)$/));
    // a second jest process starts up in seconds on a busy two-core machine, past jest's 5 s default
  }, 60_000);

  it('fails a run that wrote no result, even when steps passed', async () => {
    const { code, lines } = await summary('--passed-step', 'bench api');

    expect(code).toBe(1);
    expect(lines.at(-1)).toBe('1 passed, 1 failed');
    expect(failureBlock(lines)[1]).toMatch(/^ {2}no test results in .+: no test ran$/);
  });
});
