import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryLogger, systemClock } from '@kraken/common';
import { eventuallyPasses } from '@kraken/testing';
import { MAX_LOG_READ_LINES } from '@kraken/runtime';
import type { LogLine } from '@kraken/runtime';
import { LogFollow } from './follow.js';
import type { FollowOptions } from './follow.js';
import { deploymentPaths } from './layout.js';
import { BoundedLog } from './log-bound.js';

describe('LogFollow', () => {
  let dir: string;
  let follow: LogFollow | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kraken-follow-'));
  });
  afterEach(async () => {
    follow?.stop();
    follow = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (onLine: (line: LogLine) => void, options: Partial<FollowOptions> = {}, maxLogBytes = Number.MAX_SAFE_INTEGER): Promise<LogFollow> => {
    const paths = deploymentPaths(dir, 'app-1');
    await mkdir(paths.dir, { recursive: true });
    const logger = new MemoryLogger();
    follow = await LogFollow.start(onLine, {
      logs: { stdout: new BoundedLog(paths.stdout, maxLogBytes, logger), stderr: new BoundedLog(paths.stderr, maxLogBytes, logger) },
      since: undefined,
      after: undefined,
      onSkipped: undefined,
      isFull: undefined,
      pollIntervalMs: 10,
      clock: systemClock,
      logger,
      stillDeployed: () => true,
      onEnd: () => undefined,
      ...options,
    });
    return follow;
  };

  it('gives each whole line a cursor from which a later follow resumes with the next line of either file', async () => {
    const paths = deploymentPaths(dir, 'app-1');
    await mkdir(paths.dir, { recursive: true });
    await writeFile(paths.stdout, '');
    await writeFile(paths.stderr, '');
    const first: LogLine[] = [];
    const running = await start((line) => first.push(line));
    await appendFile(paths.stdout, 'out 1\nout 2\n');
    await appendFile(paths.stderr, 'err 1\n');
    await eventuallyPasses(
      () => {
        expect(first.map((line) => line.text)).toEqual(['out 1', 'out 2', 'err 1']);
      },
      3_000,
      5,
    );
    running.stop();
    // the broker confirmed up to 'out 1'; the app wrote on while nobody followed
    await appendFile(paths.stdout, 'out 3\n');
    await appendFile(paths.stderr, 'err 2\n');
    const resumed: string[] = [];
    await start((line) => resumed.push(line.text), { after: first[0]?.cursor });
    await eventuallyPasses(
      () => {
        expect(resumed).toEqual(['out 2', 'out 3', 'err 1', 'err 2']);
      },
      3_000,
      5,
    );
  });

  it('reads nothing while the consumer is full, and every line once it has room, at most MAX_LOG_READ_LINES a read', async () => {
    const paths = deploymentPaths(dir, 'app-1');
    await mkdir(paths.dir, { recursive: true });
    await writeFile(paths.stdout, '');
    const reads: number[] = [];
    const lines: string[] = [];
    let full = true;
    let read = 0;
    await start(
      (line) => {
        lines.push(line.text);
        read++;
      },
      {
        isFull: () => {
          if (read > 0) reads.push(read);
          read = 0;
          return full;
        },
      },
    );
    const count = MAX_LOG_READ_LINES * 3;
    await appendFile(paths.stdout, Array.from({ length: count }, (_, index) => `${String(index)}\n`).join(''));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lines).toEqual([]);
    full = false;
    await eventuallyPasses(
      () => {
        expect(lines).toHaveLength(count);
      },
      5_000,
      5,
    );
    expect(lines.map(Number)).toEqual(Array.from({ length: count }, (_, index) => index));
    expect(Math.max(...reads)).toBeLessThanOrEqual(MAX_LOG_READ_LINES);
  });

  it('reports the lines its file bound cut before they were read as skipped, in the stream where the gap is', async () => {
    const paths = deploymentPaths(dir, 'app-1');
    await mkdir(paths.dir, { recursive: true });
    await writeFile(paths.stdout, '');
    const events: (number | { skipped: number })[] = [];
    await start((line) => events.push(Number(line.text)), { onSkipped: (skipped) => events.push({ skipped }) }, 4096);
    await appendFile(paths.stdout, '0\n1\n');
    await eventuallyPasses(() => { expect(events).toEqual([0, 1]); }, 3_000, 5);
    // a flood of many times the bound between two polls: the poll cuts it down before reading
    const count = 10_000;
    await appendFile(paths.stdout, Array.from({ length: count }, (_, index) => `${String(index + 2)}\n`).join(''));
    await eventuallyPasses(() => { expect(events.at(-1)).toBe(count + 1); }, 5_000, 5);
    let next = 0;
    for (const event of events) {
      if (typeof event === 'number') expect(event).toBe(next++);
      else next += event.skipped;
    }
    expect(next).toBe(count + 2);
    expect(events.some((event) => typeof event !== 'number')).toBe(true);
  });
});
