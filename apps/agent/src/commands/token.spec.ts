import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExitCode } from '../client/exit-codes.js';
import { tokenCommand } from './token.js';

describe('kraken token', () => {
  let dataDir: string;
  const lines = { out: [] as string[], err: [] as string[] };
  const io = { out: (line: string) => lines.out.push(line), err: (line: string) => lines.err.push(line) };

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-token-'));
    lines.out = [];
    lines.err = [];
  });
  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the join token alone on stdout, and how to use it on stderr', () => {
    fs.writeFileSync(path.join(dataDir, 'secrets.json'), JSON.stringify({ apiToken: 'api', joinToken: 'join-abc', clusterId: 'c-1' }), { mode: 0o600 });
    expect(tokenCommand({ dataDir, json: false }, io)).toBe(ExitCode.Ok);
    expect(lines.out).toEqual(['join-abc']);
    expect(lines.err.join('\n')).toMatch(/--join-token-file/);
    lines.out = [];
    expect(tokenCommand({ dataDir, json: true }, io)).toBe(ExitCode.Ok);
    expect(JSON.parse(lines.out[0] ?? '')).toEqual({ joinToken: 'join-abc', clusterId: 'c-1' });
  });

  it('says where it looked when this data dir has no cluster secrets (exit 4)', () => {
    expect(tokenCommand({ dataDir, json: false }, io)).toBe(ExitCode.NotFound);
    expect(lines.err[0]).toContain(`no join token in ${path.join(dataDir, 'secrets.json')}`);
    expect(lines.out).toEqual([]);
  });
});
