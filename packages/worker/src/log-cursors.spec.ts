import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode, MemoryLogger } from '@kraken/common';
import { eventuallyPasses } from '@kraken/testing';
import { FileLogCursorStore } from './log-cursors.js';

describe('FileLogCursorStore', () => {
  let dir: string;
  let now: number;
  const clock = { now: () => now };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kraken-cursors-'));
    now = 1_000_000;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const open = (writeInterval: number | string = '1s', folder = dir): Promise<FileLogCursorStore> =>
    FileLogCursorStore.open({ dir: folder, logger: new MemoryLogger(), writeInterval, clock });
  const stored = async (): Promise<Record<string, string>> => Object.fromEntries(await (await open()).load());

  it('writes the first cursor at once and what follows within the interval once, the newest, when it is up', async () => {
    const store = await open(60_000);
    store.record('app-1', 'c1');
    await eventuallyPasses(
      async () => {
        expect(await stored()).toEqual({ 'app-1': 'c1' });
      },
      5000,
      10,
    );
    store.record('app-1', 'c2');
    store.record('app-1', 'c3');
    // paced: c2 and c3 wait for the interval, so nothing more was written yet
    expect(await stored()).toEqual({ 'app-1': 'c1' });
    await store.flush();
    expect(await stored()).toEqual({ 'app-1': 'c3' });
  });

  it('writes each confirmed cursor when the interval is 0', async () => {
    const store = await open(0);
    store.record('app-1', 'c1');
    store.record('app-2', 'x1');
    store.record('app-1', 'c2');
    await eventuallyPasses(
      async () => {
        expect(await stored()).toEqual({ 'app-1': 'c2', 'app-2': 'x1' });
      },
      5000,
      10,
    );
  });

  it('leaves only whole files: nothing half-written or temporary remains', async () => {
    const store = await open(0);
    for (let index = 0; index < 50; index++) store.record('app-1', `cursor-${String(index)}`);
    await store.flush();
    expect(await readdir(dir)).toEqual(['app-1.cursor']);
    expect(await stored()).toEqual({ 'app-1': 'cursor-49' });
  });

  it('forgets a deployment: its file goes and a cursor still waiting is not written after', async () => {
    const store = await open(60_000);
    store.record('app-1', 'c1');
    store.record('app-2', 'x1');
    await store.flush();
    store.record('app-1', 'c2');
    await store.forget('app-1');
    await store.flush();
    expect(await stored()).toEqual({ 'app-2': 'x1' });
    // a deployment placed here again starts a new cursor
    store.record('app-1', 'n1');
    await store.flush();
    expect(await stored()).toEqual({ 'app-1': 'n1', 'app-2': 'x1' });
  });

  it('survives the process: a new store on the same folder reads what the old one wrote', async () => {
    const folder = path.join(dir, 'not-yet-made');
    const first = await open(0, folder);
    first.record('app-1', 'p1:2049-17:4096::0');
    await first.flush();
    const second = await open('1s', folder);
    expect(Object.fromEntries(await second.load())).toEqual({ 'app-1': 'p1:2049-17:4096::0' });
  });

  it('skips files that are not cursors and cursors it cannot read', async () => {
    await writeFile(path.join(dir, 'app-1.cursor'), '{"cursor":"c1"}\n');
    await writeFile(path.join(dir, 'app-2.cursor'), '{"curs');
    await writeFile(path.join(dir, 'README'), 'hello');
    expect(await stored()).toEqual({ 'app-1': 'c1' });
  });

  it('refuses a write interval it cannot read', async () => {
    await expect(open('soon')).rejects.toMatchObject({ code: ErrorCode.InvalidConfig });
  });
});
