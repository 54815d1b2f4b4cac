import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseManifest } from '@kraken/shipwreck';
import type { CommandIo } from '../client/io.js';
import { initCommand } from './init.js';

function capture(): CommandIo & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (line) => lines.push(line), err: (line) => lines.push(line) };
}

describe('kraken init', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'Kraken Init '));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('detects the language, names the app after the folder, and writes a manifest that parses', async () => {
    fs.writeFileSync(path.join(dir, 'requirements.txt'), 'flask\n');
    const io = capture();
    await initCommand({ dir, force: false, interactive: false }, io);
    const manifest = parseManifest(fs.readFileSync(path.join(dir, 'shipwreck.toml'), 'utf8'));
    expect(manifest.config.lang).toBe('python3');
    expect(manifest.app.name).toMatch(/^kraken-init-/);
    expect(io.lines[0]).toMatch(/wrote .*shipwreck\.toml \(python3, detected\)/);
  });

  it('takes flags over detection, and accepts python as an alias', async () => {
    fs.writeFileSync(path.join(dir, 'package.json'), '{}');
    await initCommand({ dir, lang: 'python', name: 'api', port: 8080, run: 'python3 main.py', test: '', force: false, interactive: false }, capture());
    const manifest = parseManifest(fs.readFileSync(path.join(dir, 'shipwreck.toml'), 'utf8'));
    expect(manifest).toMatchObject({ app: { name: 'api' }, config: { lang: 'python3', port: 8080, run: 'python3 main.py' } });
  });

  it('refuses to overwrite without --force, and to guess a language it cannot detect', async () => {
    await expect(initCommand({ dir, force: false, interactive: false }, capture())).rejects.toThrow(/--lang/);
    fs.writeFileSync(path.join(dir, 'shipwreck.toml'), 'keep me');
    await expect(initCommand({ dir, lang: 'node', force: false, interactive: false }, capture())).rejects.toThrow(/already exists; --force/);
    expect(fs.readFileSync(path.join(dir, 'shipwreck.toml'), 'utf8')).toBe('keep me');
    await initCommand({ dir, lang: 'node', force: true, interactive: false }, capture());
    expect(fs.readFileSync(path.join(dir, 'shipwreck.toml'), 'utf8')).toMatch(/lang = "node"/);
  });

  it('names what is allowed for an unknown language', async () => {
    await expect(initCommand({ dir, lang: 'cobol', force: false, interactive: false }, capture())).rejects.toThrow(/unknown lang "cobol": expected one of node, python3, static, custom/);
  });
});
