import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RepoFileRefused, readRepoFile } from './repo-file.js';

describe('readRepoFile', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kraken-repo-file-'));
    writeFileSync(path.join(dir, 'secret.json'), '{"apiToken":"not for apps"}');
    writeFileSync(path.join(dir, 'package.json'), '{"name":"app"}');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a regular file', async () => {
    await expect(readRepoFile(path.join(dir, 'package.json'), 1_000)).resolves.toBe('{"name":"app"}');
  });

  it('refuses a symbolic link, without reading what it points at', async () => {
    symlinkSync(path.join(dir, 'secret.json'), path.join(dir, 'shipwreck.toml'));
    const refused = readRepoFile(path.join(dir, 'shipwreck.toml'), 1_000);
    await expect(refused).rejects.toBeInstanceOf(RepoFileRefused);
    await expect(refused).rejects.toMatchObject({ refusal: 'link', message: expect.not.stringContaining('not for apps') as unknown });
  });

  it('refuses a directory, a file over the bound, and passes on a missing file as node:fs says it', async () => {
    mkdirSync(path.join(dir, 'folder'));
    await expect(readRepoFile(path.join(dir, 'folder'), 1_000)).rejects.toMatchObject({ refusal: 'not-a-file' });
    await expect(readRepoFile(path.join(dir, 'package.json'), 5)).rejects.toMatchObject({ refusal: 'too-large', size: 14 });
    await expect(readRepoFile(path.join(dir, 'missing.json'), 1_000)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
