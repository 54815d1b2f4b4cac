import { chmod, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { adoptSecrets, createSecrets, loadOrCreateSecrets, SECRETS_FILE } from './secrets.js';
import { DataKey } from './data-key.js';

let dir: TempDir;

beforeEach(async () => {
  dir = await tempDir('kraken-secrets-');
});
afterEach(async () => {
  await dir.remove();
});

describe('loadOrCreateSecrets', () => {
  it('makes random tokens and a cluster id on first start, in a file only its owner can read', async () => {
    const dataDir = path.join(dir.path, 'data');
    const secrets = loadOrCreateSecrets(dataDir);
    expect(secrets).toMatchObject({ created: true, file: path.join(dataDir, SECRETS_FILE) });
    expect(secrets.apiToken).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits, base64url
    expect(secrets.joinToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(secrets.joinToken).not.toBe(secrets.apiToken);
    expect(secrets.clusterId).toMatch(/^kraken-[0-9a-f]{12}$/);
    expect((await stat(secrets.file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(secrets.file, 'utf8'))).toEqual({
      apiToken: secrets.apiToken,
      joinToken: secrets.joinToken,
      clusterId: secrets.clusterId,
      dataKey: secrets.dataKey.toText(),
    });
    expect(secrets.dataKey.toText()).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(secrets.dataKey.source).toBe(secrets.file);
    expect(await readdir(dataDir)).toEqual([SECRETS_FILE]); // no temporary file left
  });

  it('reads the same secrets back on every later start', () => {
    const first = loadOrCreateSecrets(dir.path);
    const again = loadOrCreateSecrets(dir.path);
    expect(again).toEqual({ ...first, created: false });
    const elsewhere = loadOrCreateSecrets(path.join(dir.path, 'other'));
    expect(elsewhere.apiToken).not.toBe(first.apiToken);
    expect(elsewhere.clusterId).not.toBe(first.clusterId);
  });

  it('keeps the secrets another process wrote first, when two starts race', async () => {
    const theirs = loadOrCreateSecrets(dir.path);
    // a second start that found no file, made its own and is about to link them into place
    const mine = createSecrets(theirs.file);
    expect(mine).toEqual({ ...theirs, created: false });
    expect(loadOrCreateSecrets(dir.path).apiToken).toBe(theirs.apiToken);
    expect(await readdir(dir.path)).toEqual([SECRETS_FILE]);
  });

  it('tightens a file that others can read', async () => {
    const { file } = loadOrCreateSecrets(dir.path);
    await chmod(file, 0o644);
    loadOrCreateSecrets(dir.path);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged file, naming it and the field', async () => {
    const file = path.join(dir.path, SECRETS_FILE);
    await writeFile(file, '{ "apiToken": ');
    expect(() => loadOrCreateSecrets(dir.path)).toThrow(`${file}: not valid JSON; fix it, or remove the file`);
    await writeFile(file, JSON.stringify({ apiToken: 'x'.repeat(43), joinToken: 'short', clusterId: 'home-lab' }));
    expect(() => loadOrCreateSecrets(dir.path)).toThrow(`${file}: joinToken: expected a string of at least 32 characters`);
    await writeFile(file, JSON.stringify({ apiToken: 'x'.repeat(43), joinToken: 'y'.repeat(43), clusterId: 'home lab' }));
    expect(() => loadOrCreateSecrets(dir.path)).toThrow(/clusterId: expected an id/);
  });

  it('gives a file from before the data key one, keeping its tokens, and the same one on later starts', async () => {
    const file = path.join(dir.path, SECRETS_FILE);
    const old = { apiToken: 'a'.repeat(43), joinToken: 'j'.repeat(43), clusterId: 'home-lab' };
    await writeFile(file, JSON.stringify(old), { mode: 0o600 });
    const upgraded = loadOrCreateSecrets(dir.path);
    expect(upgraded).toMatchObject({ ...old, created: false });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ ...old, dataKey: upgraded.dataKey.toText() });
    expect(loadOrCreateSecrets(dir.path).dataKey.equals(upgraded.dataKey)).toBe(true);
    expect(await readdir(dir.path)).toEqual([SECRETS_FILE]);
  });

  it('refuses a damaged data key, saying the file must be restored (a new key would not open the store)', async () => {
    const file = path.join(dir.path, SECRETS_FILE);
    await writeFile(file, JSON.stringify({ apiToken: 'a'.repeat(43), joinToken: 'j'.repeat(43), clusterId: 'home-lab', dataKey: 'too-short' }));
    expect(() => loadOrCreateSecrets(dir.path)).toThrow(`${file}: dataKey: expected 32 bytes in base64url (43 characters); restore the file from a backup`);
  });

  it("makes a standby's grant key and the inherited tokens this data dir's when it takes over", async () => {
    loadOrCreateSecrets(dir.path); // it led a cluster of its own once
    const granted = DataKey.generate('a grant');
    adoptSecrets(dir.path, { apiToken: 'a'.repeat(43), joinToken: 'j'.repeat(43), clusterId: 'home-lab' }, granted);
    const now = loadOrCreateSecrets(dir.path);
    expect(now).toMatchObject({ apiToken: 'a'.repeat(43), clusterId: 'home-lab', created: false });
    expect(now.dataKey.equals(granted)).toBe(true);
    expect((await stat(now.file)).mode & 0o777).toBe(0o600);
  });
});
