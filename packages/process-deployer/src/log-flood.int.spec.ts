import { stat } from 'node:fs/promises';
import { eventually, uniqueName } from '@kraken/testing';
import type { LogLine } from '@kraken/runtime';
import { deployerPerTest } from '../test/deployer-per-test.js';
import { get, repoPath, scriptAppRepo } from '../test/fixtures.js';
import { deploymentPaths } from './layout.js';
import type { ProcessDeployer } from './index.js';

/**
 * An app that, on GET /flood/<count>, writes <count> more numbered lines of 101 bytes to stdout
 * as fast as it can (in 64 KiB writes, yielding between them so it still answers), and on GET
 * /written says how many it has written once it is done. Nothing else goes to its log files.
 */
const FLOOD_APP = `
const fs = require('node:fs');
const filler = 'x'.repeat(87);
let written = 0;
let target = 0;
function writeSome() {
  let chunk = '';
  while (written < target && chunk.length < 65536) chunk += String(written++).padStart(12, '0') + ' ' + filler + '\\n';
  fs.writeSync(1, chunk);
  if (written < target) setImmediate(writeSome);
}
require('node:http').createServer((request, response) => {
  const flood = /^\\/flood\\/(\\d+)$/.exec(request.url);
  if (flood !== null) {
    const idle = written === target;
    target += Number(flood[1]);
    if (idle) setImmediate(writeSome);
    return response.end('flooding');
  }
  response.end(request.url === '/written' && written === target ? String(written) : 'busy');
}).listen(Number(process.env.PORT));
process.on('SIGTERM', () => process.exit(0));
`;

/** The bound of these tests: 100 MB of output is 25 times it. */
const MAX_LOG_BYTES = 4 * 1024 * 1024;
/** A hole covers whole blocks: a cut keeps up to one block before it, and the last block is whole too. */
const BLOCK_SLACK = 2 * 4096;

/** What a follow handed out, in order: line numbers, and counts of lines it said it skipped. */
type Event = number | { skipped: number };

/**
 * Follows the deployment's logs and records each whole line's number (and the latest cursor) and
 * each skip. A line without a cursor is left out: the unfinished line a stop hands out as it is,
 * which the resumed follow reads whole.
 */
async function follow(
  deployer: ProcessDeployer,
  deploymentId: string,
  events: Event[],
  after?: string,
): Promise<{ stop: () => Promise<void>; cursor: () => string | undefined }> {
  let cursor = after;
  const follower = await deployer.followLogs(
    deploymentId,
    (line: LogLine) => {
      if (line.cursor === undefined) return;
      cursor = line.cursor;
      events.push(Number(line.text.slice(0, 12)));
    },
    { ...(after === undefined ? {} : { after }), onSkipped: (skipped) => events.push({ skipped }) },
  );
  return {
    stop: async () => {
      follower.stop();
      await follower.done;
    },
    cursor: () => cursor,
  };
}

/**
 * Walks the events as the consumer sees them: each line must be the next one written, a skip
 * moves "the next one" on by its count. Returns how many lines the events account for; throws at
 * a line out of order (a silent gap, a repeat).
 */
function accountedFor(events: readonly Event[]): number {
  let next = 0;
  for (const event of events) {
    if (typeof event !== 'number') {
      next += event.skipped;
      continue;
    }
    if (event !== next)
      throw new Error(`line ${String(event)} came where line ${String(next)} was due: a gap nobody counted, or a repeat`);
    next++;
  }
  return next;
}

describe('ProcessDeployer under a log flood', () => {
  // the deployer's own check runs only when the test asks (list()), so each sample knows which check it follows
  const context = deployerPerTest('kraken-log-flood-', {
    nodeId: 'node-flood',
    pollInterval: '1h',
    maxLogBytes: MAX_LOG_BYTES,
    stopTimeout: '3s',
  });

  async function deployFloodApp(): Promise<{ id: string; port: number }> {
    const repo = await scriptAppRepo(repoPath(context.dir.path, 'flood'), FLOOD_APP);
    const id = uniqueName('flood').replace(/\./g, '-');
    const deployed = await context.deployer.deploy({ deploymentId: id, url: repo, branch: 'main' });
    return { id, port: deployed.hostPort! };
  }

  /**
   * Has the app write `count` more lines and, until it is done, checks the log's disk use right
   * after each check of the deployer: within the bound, but for what the app wrote while the check ran.
   */
  async function floodWithinBound(
    port: number,
    count: number,
    expectedTotal: number,
    deployer: ProcessDeployer | undefined,
    stdout: string,
  ): Promise<number> {
    await get(port, `/flood/${String(count)}`);
    let samples = 0;
    // the follower's polls bound the file too, and a check of theirs in flight may have measured it
    // before this sample began: what the app wrote since the previous sample began is allowed for
    let since: number | undefined;
    for (;;) {
      const done = (await get(port, '/written')).body === String(expectedTotal);
      if (deployer !== undefined) {
        const before = await stat(stdout);
        await deployer.list();
        const after = await stat(stdout);
        expect(after.blocks * 512).toBeLessThanOrEqual(MAX_LOG_BYTES + (after.size - (since ?? before.size)) + BLOCK_SLACK);
        since = before.size;
        samples++;
      }
      if (done) return samples;
    }
  }

  it('counts every line of a 100 MB flood as delivered or skipped, in order, and keeps the log file within its bound', async () => {
    const { id, port } = await deployFloodApp();
    const { stdout, stderr } = deploymentPaths(context.dataDir, id);
    const events: Event[] = [];
    const following = await follow(context.deployer, id, events);
    const lines = 1_000_000; // 101 MB

    const samples = await floodWithinBound(port, lines, lines, context.deployer, stdout);
    expect(samples).toBeGreaterThan(1);
    await eventually(
      () => (accountedFor(events) === lines ? true : undefined),
      60_000,
      'every line delivered or counted as skipped',
    );
    await following.stop();

    expect(accountedFor(events)).toBe(lines);
    const delivered = events.filter((event) => typeof event === 'number').length;
    // the flood outran the follow, and the newest lines (within the bound) were all read
    expect(delivered).toBeLessThan(lines);
    expect(events.at(-1)).toBe(lines - 1);
    const info = await stat(stdout);
    expect(info.size).toBe(lines * 101);
    expect(info.blocks * 512).toBeLessThanOrEqual(MAX_LOG_BYTES + BLOCK_SLACK);
    expect((await stat(stderr)).size).toBe(0);
  });

  it('keeps counting exactly across an agent restart while the app floods on', async () => {
    const { id, port } = await deployFloodApp();
    const { stdout } = deploymentPaths(context.dataDir, id);
    const perFlood = 300_000; // 30 MB each
    const events: Event[] = [];
    const first = await follow(context.deployer, id, events);
    await floodWithinBound(port, perFlood, perFlood, context.deployer, stdout);
    await eventually(() => first.cursor(), 30_000, 'a line of the first flood delivered');

    // the agent goes away with the follow wherever it got to; the app writes on with nobody reading
    await context.deployer.close();
    const confirmed = first.cursor();
    await floodWithinBound(port, perFlood, 2 * perFlood, undefined, stdout);
    const deployer = await context.restart();

    const second = await follow(deployer, id, events, confirmed);
    await floodWithinBound(port, perFlood, 3 * perFlood, deployer, stdout);
    await eventually(
      () => (accountedFor(events) === 3 * perFlood ? true : undefined),
      60_000,
      'every line delivered or counted as skipped',
    );
    await second.stop();
    expect(accountedFor(events)).toBe(3 * perFlood);
    expect(events.at(-1)).toBe(3 * perFlood - 1);
  });
});
