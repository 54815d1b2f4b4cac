import { appendFile, mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryLogger } from '@kraken/common';
import { MAX_LOG_READ_LINES, MAX_LOG_RESUME_BYTES } from '@kraken/runtime';
import { BoundedLog } from './log-bound.js';
import { FileFollower, MAX_POLL_BYTES, MAX_REPLAY_BYTES, lastLines } from './logs.js';
import type { FileLine } from './logs.js';

/** A bound no test here reaches, for the tests that are not about it. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

describe('log files', () => {
  let dir: string;
  let file: string;
  const now = new Date('2024-05-01T12:00:00Z');

  let log: BoundedLog;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kraken-logs-'));
    file = path.join(dir, 'stdout.log');
    log = new BoundedLog(file, UNBOUNDED, new MemoryLogger());
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('follows from the end: only lines appended after the follow started are delivered', async () => {
    await writeFile(file, 'old line\n');
    const follower = await FileFollower.open(log, 'stdout', undefined);
    await appendFile(file, 'new line\npartial');
    expect(await follower.poll(now)).toEqual([{ stream: 'stdout', text: 'new line', at: now, end: 18, line: 2 }]);
    await appendFile(file, ' end\n');
    expect((await follower.poll(now)).map((line) => line.text)).toEqual(['partial end']);
    expect(await follower.poll(now)).toEqual([]);
  });

  it('replays lines written before the follow when since is not after the last write, stamped with that write time', async () => {
    await writeFile(file, 'first\nsecond\n');
    const written = new Date('2024-05-01T11:00:00Z');
    await utimes(file, written, written);
    const follower = await FileFollower.open(log, 'stderr', { since: new Date('2024-05-01T10:00:00Z') });
    await appendFile(file, 'third\n');
    expect(await follower.poll(now)).toEqual([
      { stream: 'stderr', text: 'first', at: written, end: 6, line: 1 },
      { stream: 'stderr', text: 'second', at: written, end: 13, line: 2 },
      { stream: 'stderr', text: 'third', at: now, end: 19, line: 3 },
    ]);
  });

  it('replays nothing when since is after the last write', async () => {
    await writeFile(file, 'first\n');
    const written = new Date('2024-05-01T11:00:00Z');
    await utimes(file, written, written);
    const follower = await FileFollower.open(log, 'stdout', { since: new Date('2024-05-01T11:30:00Z') });
    expect(await follower.poll(now)).toEqual([]);
  });

  it('replays at most the last MiB, starting at a line start', async () => {
    const line = `${'y'.repeat(99)}\n`;
    await writeFile(file, line.repeat(Math.ceil((MAX_REPLAY_BYTES * 1.5) / line.length)));
    const follower = await FileFollower.open(log, 'stdout', { since: new Date(0) });
    const lines = await follower.poll(now, Number.POSITIVE_INFINITY);
    expect(lines.length).toBeLessThanOrEqual(MAX_REPLAY_BYTES / line.length);
    expect(lines.length).toBeGreaterThan(MAX_REPLAY_BYTES / line.length - 2);
    expect(lines.every((entry) => entry.text === 'y'.repeat(99))).toBe(true);
  });

  it('reads a backlog in steps of at most MAX_POLL_BYTES, every line once and in order', async () => {
    const follower = await FileFollower.open(log, 'stdout', undefined);
    const count = Math.ceil((MAX_POLL_BYTES * 2.5) / 100);
    await writeFile(file, Array.from({ length: count }, (_, index) => `${String(index).padStart(99, '0')}\n`).join(''));
    const polls: string[][] = [];
    const poll = () => follower.poll(now, Number.POSITIVE_INFINITY);
    for (let lines = await poll(); lines.length > 0; lines = await poll()) polls.push(lines.map((line) => line.text));
    expect(polls).toHaveLength(3);
    // a poll may end inside a line, which the next one completes
    expect(polls.every((texts) => texts.length <= Math.floor(MAX_POLL_BYTES / 100) + 1)).toBe(true);
    expect(polls.flat().map(Number)).toEqual(Array.from({ length: count }, (_, index) => index));
  });

  it('reads at most MAX_LOG_READ_LINES whole lines a poll, the next poll going on right after the last', async () => {
    const follower = await FileFollower.open(log, 'stdout');
    const count = MAX_LOG_READ_LINES * 2 + 10;
    await writeFile(file, `${Array.from({ length: count }, (_, index) => String(index)).join('\n')}\nunfinished`);
    const polls: FileLine[][] = [];
    for (let lines = await follower.poll(now); lines.length > 0; lines = await follower.poll(now)) polls.push(lines);
    expect(polls.map((lines) => lines.length)).toEqual([MAX_LOG_READ_LINES, MAX_LOG_READ_LINES, 10]);
    expect(polls.flat().map((line) => Number(line.text))).toEqual(Array.from({ length: count }, (_, index) => index));
    expect(follower.flush(now).map((line) => line.text)).toEqual(['unfinished']);
  });

  it('resumes right after a delivered line of the same file, with every later line once, whatever since says', async () => {
    const first = await FileFollower.open(log, 'stdout');
    await writeFile(file, 'one\ntwo\nthr');
    const read = await first.poll(now);
    expect(read.map((line) => [line.text, line.end, line.line])).toEqual([
      ['one', 4, 1],
      ['two', 8, 2],
    ]);
    // the agent went away after 'one' was confirmed; the app wrote on
    await appendFile(file, 'ee\nfour\n');
    const resumed = await FileFollower.open(log, 'stdout', { after: { file: first.fileIdentity, offset: 4, line: 1 }, since: new Date() });
    expect(resumed.takeSkipped()).toBe(0);
    expect((await resumed.poll(now)).map((line) => line.text)).toEqual(['two', 'three', 'four']);
  });

  it('gives an offset to whole lines only: the pieces of an over-long line have none, its last piece ends it', async () => {
    const follower = await FileFollower.open(log, 'stdout');
    await writeFile(file, `${'x'.repeat(100_000)}\nafter\n`);
    const lines = await follower.poll(now);
    expect(lines.map((line) => line.text).join('')).toBe(`${'x'.repeat(100_000)}after`);
    expect(lines.filter((line) => line.end !== undefined).map((line) => [line.text.slice(0, 1), line.end])).toEqual([
      ['x', 100_001],
      ['a', 100_007],
    ]);
  });

  it('reads a file replaced since the cursor from its start, and one shorter than the cursor (truncated by someone else) too', async () => {
    await writeFile(file, 'old\nlines\n');
    const before = await FileFollower.open(log, 'stdout');
    const identity = before.fileIdentity;
    // kept, so the new file cannot get its inode
    await rename(file, `${file}.old`);
    await writeFile(file, 'new\n');
    const replaced = await FileFollower.open(log, 'stdout', { after: { file: identity, offset: 4, line: 1 } });
    expect((await replaced.poll(now)).map((line) => line.text)).toEqual(['new']);
    const shorter = await FileFollower.open(log, 'stdout', { after: { file: replaced.fileIdentity, offset: 100, line: 9 } });
    expect((await shorter.poll(now)).map((line) => line.text)).toEqual(['new']);
  });

  it('replays at most MAX_LOG_RESUME_BYTES after a cursor and counts the lines it skips', async () => {
    const line = `${'z'.repeat(99)}\n`;
    const total = Math.ceil((MAX_LOG_RESUME_BYTES + 10 * 1024) / line.length);
    await writeFile(file, 'confirmed\n');
    const first = await FileFollower.open(log, 'stdout', { since: new Date(0) });
    await appendFile(file, line.repeat(total));
    const resumed = await FileFollower.open(log, 'stdout', { after: { file: first.fileIdentity, offset: 'confirmed\n'.length, line: 1 } });
    let replayed = 0;
    for (let lines = await resumed.poll(now); lines.length > 0; lines = await resumed.poll(now)) replayed += lines.length;
    expect(replayed).toBe(Math.floor(MAX_LOG_RESUME_BYTES / line.length));
    expect(resumed.takeSkipped() + replayed).toBe(total);
  });

  it('waits for a file that does not exist yet and reads it from its start', async () => {
    const follower = await FileFollower.open(log, 'stdout', undefined);
    expect(await follower.poll(now)).toEqual([]);
    await writeFile(file, 'hello\n');
    expect((await follower.poll(now)).map((line) => line.text)).toEqual(['hello']);
  });

  it('reads the last lines of a file for error messages', async () => {
    await writeFile(file, 'one\ntwo\r\nthree\n\n');
    expect(await lastLines(file, 2)).toEqual(['two', 'three']);
    expect(await lastLines(path.join(dir, 'missing.log'), 2)).toEqual([]);
  });
});
