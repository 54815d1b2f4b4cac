#!/usr/bin/env node
// One honest summary of a whole test run (tools/test-all.sh, .ci/run): jest's counts per project
// from test-output/results/*.json (written by jest-config/results-reporter.cjs), plus every step
// outside jest (a build or lint task, a test task that crashed or never ran, a setup step, a bench).
//
//   node tools/ci/summary.mjs [--results DIR] [--nx-log FILE]... [--failed-step LABEL]... [--passed-step LABEL]...
//
// --nx-log FILE        output of an `nx run-many` that failed. Each task it names under "Failed tasks"
//                      or "Tasks not run because their dependencies failed" counts as one failure,
//                      unless it is a test/integration task whose jest result already counts failures
//                      (no double counting). A log that names no task counts as one failure itself.
// --failed-step LABEL  a step outside Nx that failed (services, npm ci, nx sync:check, a bench): one failure.
// --passed-step LABEL  a step outside jest that passed (a bench, the live Kraken check): one pass,
//                      listed with its label (e.g. a bench's ratio).
//
// Just before the last line it lists every failure it counted, each failing test with its title
// and file, so the end of a red run's output says what broke. The last line is exactly
// `N passed, M failed` (`, K skipped` appended when K > 0), where N = jest passed tests + passed
// steps and M = jest failed tests + broken suites + the failures above. Exit 1 when M > 0 or when
// there is no result file at all (a run that ran no test must not look green; it counts as one failure).
import fs from 'node:fs';
import path from 'node:path';
import { stripVTControlCharacters as stripAnsi } from 'node:util';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const testKinds = new Set(['test', 'integration']);

function parseArgs(argv) {
  const options = { results: path.join(repoRoot, 'test-output', 'results'), nxLogs: [], failedSteps: [], passedSteps: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (!['--results', '--nx-log', '--failed-step', '--passed-step'].includes(flag)) usage(`unknown argument ${JSON.stringify(flag)}`);
    if (value === undefined) usage(`${flag} needs a value`);
    if (flag === '--results') options.results = path.resolve(value);
    if (flag === '--nx-log') options.nxLogs.push(value);
    if (flag === '--failed-step') options.failedSteps.push(value);
    if (flag === '--passed-step') options.passedSteps.push(value);
    i += 1;
  }
  return options;
}

function usage(problem) {
  console.error(`summary.mjs: ${problem}\nusage: node tools/ci/summary.mjs [--results DIR] [--nx-log FILE]... [--failed-step LABEL]... [--passed-step LABEL]...`);
  process.exit(2);
}

const counters = ['passed', 'failed', 'skipped', 'brokenSuites'];

/** Result files, each checked: a malformed one is a failure to report, not a crash or a silent zero. */
function readResults(dir) {
  const results = [];
  const problems = [];
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  for (const file of files) {
    try {
      const data = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      const bad = counters.filter((key) => !Number.isInteger(data[key]) || data[key] < 0);
      if (typeof data.project !== 'string' || typeof data.kind !== 'string' || bad.length > 0) {
        throw new Error(`expected {project, kind, ${counters.join(', ')}} (bad: ${['project', 'kind', ...bad].join(', ')})`);
      }
      results.push({
        ...data,
        failedSuites: Array.isArray(data.failedSuites) ? data.failedSuites : [],
        // results written before the reporter named failing tests have only the count
        failedTests: Array.isArray(data.failedTests) ? data.failedTests : [],
      });
    } catch (error) {
      problems.push(`result file ${file} is unreadable: ${error.message}`);
    }
  }
  return { files, results, problems };
}

/** Task ids listed under Nx's static summary headings (the format Nx uses in CI), and its first NX title. */
export function parseNxLog(text) {
  const sections = { failed: [], notRun: [], headline: undefined };
  let current = null;
  for (const raw of stripAnsi(text).split('\n')) {
    const line = raw.trim();
    const nxTitle = /^NX\s+(.+)$/.exec(line);
    if (nxTitle && sections.headline === undefined) sections.headline = nxTitle[1];
    if (line.startsWith('Failed tasks:')) current = 'failed';
    else if (line.startsWith('Tasks not run because')) current = 'notRun';
    else if (current && /^- \S+:\S+$/.test(line)) sections[current].push(line.slice(2));
    else if (current && line !== '') current = null;
  }
  return sections;
}

const skippedDirs = new Set(['node_modules', 'dist', 'out-tsc', 'test-output', 'tmp', 'coverage']);

/**
 * Nx project name -> the `project` key the jest reporter writes (the project root, / replaced by _).
 * Projects are found by their package.json (`nx.name`, else `name`) or project.json, a few levels deep.
 */
function projectKeys(dir = repoRoot, depth = 0, keys = new Map()) {
  const relative = path.relative(repoRoot, dir);
  const key = relative.replace(/[\\/]/g, '_') || 'root';
  for (const file of ['package.json', 'project.json']) {
    try {
      const json = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      const name = file === 'project.json' ? json.name : (json.nx?.name ?? json.name);
      if (typeof name === 'string') keys.set(name, key);
    } catch {
      // no such file, or not JSON: the other file may name the project
    }
  }
  if (depth < 3) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && !entry.name.startsWith('.') && !skippedDirs.has(entry.name)) {
        projectKeys(path.join(dir, entry.name), depth + 1, keys);
      }
    }
  }
  return keys;
}

function nxFailures(logFile, results) {
  let text;
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch (error) {
    return [`nx log ${logFile} is unreadable: ${error.message}`];
  }
  const { failed, notRun, headline } = parseNxLog(text);
  if (failed.length === 0 && notRun.length === 0) {
    // e.g. Nx refusing to run anything in CI because the workspace is out of sync
    return [`nx failed without naming a task${headline ? `: ${headline}` : ''} (see ${display(logFile)})`];
  }
  const keys = projectKeys();
  const problems = [];
  for (const task of failed) {
    const [project, target] = task.split(':');
    if (testKinds.has(target)) {
      const result = results.find((r) => r.project === keys.get(project) && r.kind === target);
      if (!result) {
        problems.push(`${task} failed and wrote no test result`);
        continue;
      }
      if (result.failed + result.brokenSuites > 0) continue; // already counted by its result
      problems.push(`${task} failed although its tests passed (see its output)`);
    } else {
      problems.push(`${task} failed`);
    }
  }
  for (const task of notRun) problems.push(`${task} did not run: a task it depends on failed`);
  return problems;
}

/** A path as short as it can be read: relative inside the repository, absolute outside it. */
function display(file) {
  const relative = path.relative(repoRoot, path.resolve(file));
  return relative.startsWith('..') || relative === '' ? path.resolve(file) : relative;
}

function table(rows) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => String(row[col]).length)));
  return rows.map((row) => '  ' + row.map((cell, col) => (col < 2 ? String(cell).padEnd(widths[col]) : String(cell).padStart(widths[col]))).join('  ')).join('\n');
}

function firstLine(text) {
  return stripAnsi(String(text ?? '')).split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '(no message)';
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const { files, results, problems } = readResults(options.results);
  if (files.length === 0) problems.push(`no test results in ${display(options.results)}: no test ran`);
  for (const log of options.nxLogs) problems.push(...nxFailures(log, results));
  for (const step of options.failedSteps) problems.push(`step failed: ${step}`);
  const uniqueProblems = [...new Set(problems)];

  const sum = (key) => results.reduce((total, r) => total + r[key], 0);
  const passed = sum('passed') + options.passedSteps.length;
  const skipped = sum('skipped');
  const failed = sum('failed') + sum('brokenSuites') + uniqueProblems.length;

  if (results.length > 0) {
    const sorted = [...results].sort((a, b) => a.project.localeCompare(b.project) || a.kind.localeCompare(b.kind));
    console.log('Test results by project:');
    console.log(
      table([
        ['project', 'kind', 'passed', 'failed', 'skipped', 'broken suites'],
        ...sorted.map((r) => [r.project, r.kind, r.passed, r.failed, r.skipped, r.brokenSuites]),
      ]),
    );
  }
  const slowest = slowestSuites(results, 12);
  if (slowest.length > 0) {
    console.log('\nSlowest suites (wall time):');
    for (const suite of slowest) console.log(`  ${suite.seconds.toFixed(1).padStart(7)} s  ${display(String(suite.file))} (${suite.kind})`);
  }
  if (options.passedSteps.length > 0) {
    console.log('\nSteps that passed (one count each):');
    for (const step of options.passedSteps) console.log(`  ${step}`);
  }
  const failures = failureLines(results, uniqueProblems);
  if (failures.length > 0) {
    console.log(`\nFailures (${failed}):`);
    for (const line of failures) console.log(`  ${line}`);
  }
  console.log('');
  console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  process.exitCode = failed > 0 ? 1 : 0;
}

/** The `count` suites that took longest across every result (results without timings add none). */
export function slowestSuites(results, count) {
  return results
    .flatMap((r) => (Array.isArray(r.suiteSeconds) ? r.suiteSeconds : []).filter((suite) => Number.isFinite(suite?.seconds)).map((suite) => ({ ...suite, kind: r.kind })))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count);
}

/**
 * One line per counted failure, in the order a reader fixes them: tests (title, file, first line
 * of the error), suites that did not run, then tasks and steps. Tests a result counts but does not
 * name (it names at most 50) get one line saying how many.
 */
function failureLines(results, problems) {
  const sorted = [...results].sort((a, b) => a.project.localeCompare(b.project) || a.kind.localeCompare(b.kind));
  const lines = [];
  for (const r of sorted) {
    for (const test of r.failedTests) {
      const message = firstLine(test.message);
      lines.push(`FAIL ${test.title} (${display(String(test.file))}, ${r.kind})${message === '(no message)' ? '' : `: ${message}`}`);
    }
    const unnamed = r.failed - r.failedTests.length;
    if (unnamed > 0) lines.push(`FAIL ${unnamed} more test(s) in ${r.project} (${r.kind}): see its jest output above`);
    for (const suite of r.failedSuites) {
      lines.push(`BROKEN SUITE ${display(String(suite.file))} (${r.kind}): ${firstLine(suite.message)}`);
    }
  }
  for (const problem of problems) lines.push(problem);
  return lines;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) main();
