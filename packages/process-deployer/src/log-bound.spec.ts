import { appendFile, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryLogger } from '@kraken/common';
import { BoundedLog, countLines } from './log-bound.js';
import { FileFollower, lastLines } from './logs.js';

/** The smallest bound the options allow; a hole is punched in 4 KiB blocks. */
const BOUND = 4096;

/** Lines `from` to `to - 1`, each `<number padded to 9>` and a newline (10 bytes). */
function numbered(from: number, to: number): string {
  return Array.from({ length: to - from }, (_, index) => `${String(from + index).padStart(9, '0')}\n`).join('');
}

/** Disk space the file takes (st_blocks), not its apparent size. */
async function diskBytes(file: string): Promise<number> {
  return (await stat(file)).blocks * 512;
}

/** Every line a follower hands out until it has caught up, and the lines it counted as skipped meanwhile. */
async function drain(follower: FileFollower): Promise<{ numbers: number[]; skipped: number }> {
  const numbers: number[] = [];
  let skipped = follower.takeSkipped();
  for (let lines = await follower.poll(new Date()); lines.length > 0; lines = await follower.poll(new Date())) {
    numbers.push(...lines.map((line) => Number(line.text)));
    skipped += follower.takeSkipped();
  }
  return { numbers, skipped: skipped + follower.takeSkipped() };
}

describe('BoundedLog', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kraken-log-bound-'));
    file = path.join(dir, 'stdout.log');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const bounded = (maxBytes = BOUND) => new BoundedLog(file, maxBytes, new MemoryLogger());

  it('leaves a file within its bound alone, and a missing one too', async () => {
    await bounded().keepWithinBound();
    await writeFile(file, numbered(0, 400));
    await bounded().keepWithinBound();
    expect(await readFile(file, 'utf8')).toBe(numbered(0, 400));
    await expect(stat(`${file}.cut`)).rejects.toThrow(/ENOENT/);
  });

  it('cuts a file over its bound down to its newest bytes from a line start: the size stays, the disk space goes, the cut is recorded', async () => {
    await writeFile(file, numbered(0, 10_000));
    await bounded().keepWithinBound();
    const info = await stat(file);
    expect(info.size).toBe(100_000);
    expect(await diskBytes(file)).toBeLessThanOrEqual(BOUND + 4096);
    const record = JSON.parse(await readFile(`${file}.cut`, 'utf8')) as { offset: number; lines: number };
    // the newest 4096 bytes start inside line 9590; the cut keeps from the next line start on
    expect(record).toMatchObject({ offset: 9591 * 10, lines: 9591 });
    const tail = (await readFile(file)).subarray(record.offset).toString('utf8');
    expect(tail).toBe(numbered(9591, 10_000));
  });

  it('has a follower behind the cut count the cut lines as skipped and read on after it, in order', async () => {
    const log = bounded();
    await writeFile(file, '');
    const follower = await FileFollower.open(log, 'stdout');
    await appendFile(file, numbered(0, 100));
    expect((await drain(follower)).numbers).toEqual(Array.from({ length: 100 }, (_, index) => index));
    // a flood the follower did not read before the bound cut it
    await appendFile(file, numbered(100, 5_000));
    await log.keepWithinBound();
    const { numbers, skipped } = await drain(follower);
    expect(numbers[0]).toBe(100 + skipped);
    expect(numbers).toEqual(Array.from({ length: 5_000 - 100 - skipped }, (_, index) => 100 + skipped + index));
    expect(skipped).toBeGreaterThan(0);
  });

  it('keeps the file within its bound at each poll of a follower too, counting every line once', async () => {
    const log = bounded();
    await writeFile(file, '');
    const follower = await FileFollower.open(log, 'stdout');
    let delivered = 0;
    let skipped = 0;
    for (let round = 0; round < 20; round++) {
      await appendFile(file, numbered(round * 1_000, (round + 1) * 1_000));
      // lines the poll reads are not cut: the bound applies to what is in the file before it
      delivered += (await follower.poll(new Date(), 100)).length;
      skipped += follower.takeSkipped();
      expect(await diskBytes(file)).toBeLessThanOrEqual(BOUND + 2 * 4096);
    }
    const rest = await drain(follower);
    expect(delivered + rest.numbers.length + skipped + rest.skipped).toBe(20_000);
    expect(rest.numbers.at(-1)).toBe(19_999);
  });

  it('counts for a resumed follower (a restarted agent: a new BoundedLog) the lines cut after its cursor from the record', async () => {
    await writeFile(file, numbered(0, 10));
    const first = await FileFollower.open(bounded(), 'stdout', { since: new Date(0) });
    const read = await first.poll(new Date());
    const cursor = { file: first.fileIdentity, offset: read[2]?.end ?? 0, line: read[2]?.line ?? 0 };
    expect(cursor).toMatchObject({ offset: 30, line: 3 });
    // the agent is away; the app writes on and the new agent's supervisor cuts before any follow
    await appendFile(file, numbered(10, 3_000));
    await bounded().keepWithinBound();
    const resumed = await FileFollower.open(bounded(), 'stdout', { after: cursor });
    const { numbers, skipped } = await drain(resumed);
    expect(numbers.length + skipped).toBe(3_000 - 3);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, index) => 3_000 - numbers.length + index));
  });

  it('ignores the cut of a file that was replaced since, even one that got the inode of the removed file', async () => {
    const log = bounded();
    await writeFile(file, numbered(0, 1_000));
    await log.keepWithinBound();
    await rm(file);
    await writeFile(file, numbered(0, 5));
    expect(await drain(await FileFollower.open(log, 'stdout', { since: new Date(0) }))).toEqual({
      numbers: [0, 1, 2, 3, 4],
      skipped: 0,
    });
    expect(await drain(await FileFollower.open(bounded(), 'stdout', { since: new Date(0) }))).toEqual({
      numbers: [0, 1, 2, 3, 4],
      skipped: 0,
    });
  });
  it('reads a file truncated by someone else from its start, its earlier cut forgotten', async () => {
    const log = bounded();
    await writeFile(file, numbered(0, 1_000));
    await log.keepWithinBound();
    const follower = await FileFollower.open(log, 'stdout');
    await truncate(file, 0);
    await appendFile(file, numbered(0, 3));
    expect(await drain(follower)).toEqual({ numbers: [0, 1, 2], skipped: 0 });
  });
});
describe('lastLines of a cut file', () => {
  it('leaves out what is left of the line the hole cut into', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kraken-last-'));
    try {
      const file = path.join(dir, 'stderr.log');
      await writeFile(file, numbered(0, 1_000));
      await new BoundedLog(file, BOUND, new MemoryLogger()).keepWithinBound();
      const lines = await lastLines(file, 1_000);
      expect(lines).toEqual(
        numbered(1_000 - lines.length, 1_000)
          .trimEnd()
          .split('\n'),
      );
      expect(lines.length).toBeGreaterThan(BOUND / 10 - 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('countLines', () => {
  it('counts the newlines in a range, across its 1 MiB read steps', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kraken-count-'));
    try {
      const file = path.join(dir, 'lines.log');
      await writeFile(file, numbered(0, 300_000));
      expect(await countLines(file, 0, 3_000_000)).toBe(300_000);
      expect(await countLines(file, 5, 25)).toBe(2);
      expect(await countLines(file, 10, 10)).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
