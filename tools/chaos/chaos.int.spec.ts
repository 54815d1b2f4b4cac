// Issue 15: CI's short chaos schedules, fixed seeds so a failure replays (`node tools/chaos/run.mjs
// --seed 7 --minutes 2`, `--seed 22 --leader-faults` and `--seed 12 --engines`); the long run is the
// same tool with --minutes 30.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { watchProcess } from '@kraken/testing';

const RUN = path.join(__dirname, 'run.mjs');
/** Its two minutes crash, cut and pause worker hosts and delay one's broker link. */
const WORKERS_SEED = 7;
/**
 * Its two minutes pause the founding leader (a standby takes over), cut a standby's link, crash the
 * first host, and pause the leader of the moment: three leaders in a row. No broker-crash: a
 * leader's own RabbitMQ node killed does not settle yet, and which host leads when the schedule
 * kills a node depends on timing (seed 79 hit it in one run of four); see tools/chaos/README.md.
 */
const LEADER_FAULTS_SEED = 22;
/**
 * Its two minutes crash a worker host, engine and containers too, then stop the other worker's
 * Docker engine for 15 s while it holds apps (they move), kill an app, and drop packets.
 */
const ENGINES_SEED = 12;

/** Runs the chaos tool with `args` and checks that it printed every invariant, each one held. */
async function expectEveryInvariantHeld(seed: number, args: readonly string[]): Promise<string> {
  const run = watchProcess(spawn(process.execPath, [RUN, '--seed', String(seed), '--minutes', '2', '--settle-minutes', '3', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const code = await run.exited;
  const output = run.output();
  // the table and what follows it; all of it when the run itself failed
  console.log(output.includes('\nchaos run, seed') ? output.slice(output.indexOf('\nchaos run, seed')) : output);
  // the table names each invariant with its result: all nine, each ok
  const rows = output.split('\n').filter((line) => / {2}(ok|FAILED) {2}/.test(line));
  const verdict = /chaos: (every invariant held|\d+ invariant\(s\) failed)/.exec(output)?.[0];
  if (code !== 0 || verdict !== 'chaos: every invariant held') {
    // CI's summary shows a failure's first line: it names what failed and where the agents' logs are
    const failed = rows.filter((row) => row.includes('FAILED')).map((row) => row.trim().replace(/ {2,}/g, ' | '));
    const logs = /agents' logs kept in (\S+)/.exec(output)?.[1] ?? 'not kept';
    throw new Error(`chaos seed ${seed} ${args.join(' ')} exited ${String(code)}: ${verdict ?? 'no verdict'}; ${failed.length === 0 ? 'no invariant row failed' : failed.join('; ')}; agents' logs: ${logs}`);
  }
  expect(rows).toHaveLength(9);
  expect(rows.filter((row) => row.includes('FAILED'))).toEqual([]);
  // the schedule did something: faults and creates happened
  expect(output).toMatch(/\d+ faults \(.*\), operations: .*create/);
  expect(output).toMatch(/\[chaos [\d:]+\] healed: /);
  return output;
}

describe('the chaos run (CI schedule)', () => {
  it(`keeps every invariant through two minutes of faults on the workers and operations (seed ${WORKERS_SEED})`, async () => {
    const output = await expectEveryInvariantHeld(WORKERS_SEED, []);
    expect(output).toMatch(/\] fault: delay host \d for/);
  }, 600_000);

  it(`keeps every invariant through two minutes of faults on any host, the leader's too (seed ${LEADER_FAULTS_SEED}, --leader-faults)`, async () => {
    const output = await expectEveryInvariantHeld(LEADER_FAULTS_SEED, ['--leader-faults']);
    expect(output).toMatch(/\] fault: pause host 1 for/);
    // the leadership moved (twice, when the first pause's successor is host 2) and every agent follows the last leader
    expect(output).toMatch(/every agent follows one leader +ok +.* term [2-9]/);
  }, 900_000);

  it(`keeps every invariant through two minutes of faults on workers with Docker engines of their own, an engine restart among them (seed ${ENGINES_SEED}, --engines)`, async () => {
    const output = await expectEveryInvariantHeld(ENGINES_SEED, ['--engines']);
    expect(output).toMatch(/\] +host \d's Docker engine stopped/);
    expect(output).toMatch(/\] healed: engine-restart host \d/);
  }, 900_000);
});
