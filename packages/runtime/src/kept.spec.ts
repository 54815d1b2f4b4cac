import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { ErrorCode } from '@kraken/common';
import { tempDir } from '@kraken/testing';
import { KeptFile, findKept, keepNewest } from './kept.js';

const version = (commit: string): { commit: string; keptAt: string } => ({ commit, keptAt: '2026-12-06T00:00:00.000Z' });

describe('keepNewest', () => {
  it('puts the new version first and drops the oldest beyond the limit', () => {
    const { kept, dropped } = keepNewest([version('c3'), version('c2'), version('c1')], version('c4'));
    expect(kept.map((entry) => entry.commit)).toEqual(['c4', 'c3', 'c2']);
    expect(dropped.map((entry) => entry.commit)).toEqual(['c1']);
  });

  it('moves a commit deployed again to the front instead of keeping it twice', () => {
    const { kept, dropped } = keepNewest([version('c3'), version('c2'), version('c1')], version('c1'));
    expect(kept.map((entry) => entry.commit)).toEqual(['c1', 'c3', 'c2']);
    expect(dropped).toEqual([]);
  });
});

describe('findKept', () => {
  it('finds a version by its full sha or an abbreviation, in any case', () => {
    const list = [version('abcdef0123'), version('0123456789')];
    expect(findKept(list, 'ABCDEF0')?.commit).toBe('abcdef0123');
    expect(findKept(list, '0123456789')?.commit).toBe('0123456789');
    expect(findKept(list, 'fedcba9')).toBeUndefined();
  });
});

describe('KeptFile', () => {
  it('reads what it wrote, and a missing file as no versions', async () => {
    await using dir = await tempDir('kraken-kept-');
    const file = new KeptFile(path.join(dir.path, 'kept', 'd1.json'));
    expect(await file.read()).toEqual([]);
    await file.write([version('c2'), version('c1')]);
    expect(await file.read()).toEqual([version('c2'), version('c1')]);
    await file.remove();
    expect(await file.read()).toEqual([]);
  });

  it('names a damaged file instead of guessing', async () => {
    await using dir = await tempDir('kraken-kept-');
    const name = path.join(dir.path, 'd1.json');
    await writeFile(name, '{"v": 1, "versions": [{"sha": "c1"}]}');
    await expect(new KeptFile(name).read()).rejects.toMatchObject({ code: ErrorCode.InvalidInput, message: expect.stringContaining(name) as unknown });
  });
});
