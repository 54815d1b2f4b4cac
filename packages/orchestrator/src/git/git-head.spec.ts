import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { gitFixtureRepo, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { gitLsRemote } from './git-head.js';

let dir: TempDir;

beforeEach(async () => {
  dir = await tempDir('kraken-git-head-');
});
afterEach(async () => {
  await dir.remove();
});

describe('gitLsRemote', () => {
  it('finds the head of a branch in a real repository, and undefined for a missing branch', async () => {
    const repo = await gitFixtureRepo(path.join(dir.path, 'repo'), { 'README.md': 'hello\n' });
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const resolve = gitLsRemote(5000);
    expect(await resolve(repo, 'main')).toBe(head);
    expect(await resolve(`file://${repo}`, 'main')).toBe(head);
    expect(await resolve(repo, 'nope')).toBeUndefined();
    await expect(resolve(`${dir.path}/missing`, 'main')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('gives up when its signal is aborted, saying it was cancelled', async () => {
    const repo = await gitFixtureRepo(path.join(dir.path, 'repo'), { 'README.md': 'hello\n' });
    const controller = new AbortController();
    controller.abort();
    await expect(gitLsRemote(5000)(repo, 'main', { signal: controller.signal })).rejects.toThrow(/was cancelled/);
  });
});
