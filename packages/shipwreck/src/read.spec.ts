import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MANIFEST_FILE, MAX_MANIFEST_BYTES, ManifestError, readManifest } from './index.js';

const VALID = '[app]\nname = "demo"\nversion = "1.0.0"\n\n[config]\nlang = "static"\n';

describe('readManifest', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'shipwreck-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and validates <dir>/shipwreck.toml', async () => {
    await writeFile(path.join(dir, MANIFEST_FILE), VALID);
    await expect(readManifest(dir)).resolves.toMatchObject({
      app: { name: 'demo' },
      config: { lang: 'static' },
    });
  });

  it('says the repository has no shipwreck.toml and how to create one', async () => {
    const error = await readManifest(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).message).toBe(
      `shipwreck.toml: the repository has no shipwreck.toml at its root (looked in ${dir}); ` +
        "create one with `kraken init`, which writes a commented template for the app's language, then commit it",
    );
  });

  it('mentions a file with the wrong case or extension', async () => {
    await writeFile(path.join(dir, 'Shipwreck.toml'), VALID);
    await expect(readManifest(dir)).rejects.toThrow(
      'found Shipwreck.toml; the name must be exactly shipwreck.toml, in lower case',
    );
  });

  it('refuses a directory where the file should be', async () => {
    await mkdir(path.join(dir, MANIFEST_FILE));
    await expect(readManifest(dir)).rejects.toThrow(/is not a regular file/);
  });

  it('refuses a manifest that is a symbolic link, and never shows what it points at (the agent reads it with its own rights)', async () => {
    const secret = path.join(dir, 'secrets.json');
    await writeFile(secret, '[app]\nname = "the-api-token-is-here"\n');
    await symlink(secret, path.join(dir, MANIFEST_FILE));
    const error = await readManifest(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).message).toMatch(/shipwreck\.toml is a symbolic link/);
    expect((error as ManifestError).message).not.toContain('the-api-token-is-here');
  });

  it('refuses a huge file before reading it', async () => {
    await writeFile(path.join(dir, MANIFEST_FILE), `${VALID}#${'x'.repeat(MAX_MANIFEST_BYTES)}\n`);
    await expect(readManifest(dir)).rejects.toThrow(/^shipwreck\.toml: is 257 KiB, more than the 256 KiB a manifest may be/);
  });

  it('names the file as the repository knows it in validation errors', async () => {
    await writeFile(path.join(dir, MANIFEST_FILE), VALID.replace('"static"', '"ruby"'));
    await expect(readManifest(dir)).rejects.toThrow(/^shipwreck\.toml:6: config\.lang: "ruby" is not supported/);
  });
});
