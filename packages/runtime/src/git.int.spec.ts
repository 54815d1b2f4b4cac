import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { gitFixtureRepo, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { shallowClone } from './git.js';

// file:// makes git clone shallow for real (it ignores --depth for a plain path), so these runs
// take the fetch paths a remote would.
let work: TempDir;
let url: string;
let older: string;
let head: string;
let clones = 0;

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Kraken Test', '-c', 'user.email=test@kraken.invalid', ...args], { cwd: dir, encoding: 'utf8' }).trim();
}

beforeAll(async () => {
  work = await tempDir('kraken-git-it-');
  const repo = await gitFixtureRepo(path.join(work.path, 'repo'), { 'version.txt': 'one\n' });
  older = git(repo, 'rev-parse', 'HEAD');
  await writeFile(path.join(repo, 'version.txt'), 'two\n');
  git(repo, 'commit', '--quiet', '--all', '--message', 'second');
  head = git(repo, 'rev-parse', 'HEAD');
  url = `file://${repo}`;
});

afterAll(async () => {
  await work.remove();
});

function nextDir(): string {
  clones += 1;
  return path.join(work.path, `clone-${clones}`);
}

async function cloneAt(commit?: string): Promise<{ commit: string; version: string; shallow: string; dir: string }> {
  const dir = nextDir();
  const result = await shallowClone({ url, branch: 'main', dir, deploymentId: 'd1', ...(commit === undefined ? {} : { commit }) }, 30_000);
  return { commit: result.commit, version: await readFile(path.join(dir, 'version.txt'), 'utf8'), shallow: git(dir, 'rev-parse', '--is-shallow-repository'), dir };
}

describe('shallowClone with a commit (real git over file://)', () => {
  it('clones the branch head when no commit is given', async () => {
    const result = await cloneAt();
    expect(result).toMatchObject({ commit: head, version: 'two\n', shallow: 'true' });
  });

  it('checks out an older commit given by its full sha, fetching only that commit', async () => {
    const result = await cloneAt(older);
    expect(result).toMatchObject({ commit: older, version: 'one\n', shallow: 'true' });
    expect(git(result.dir, 'rev-list', '--count', 'HEAD')).toBe('1');
  });

  it('checks out an older commit given by an abbreviated sha, found in the branch history', async () => {
    const result = await cloneAt(older.slice(0, 7).toUpperCase());
    expect(result).toMatchObject({ commit: older, version: 'one\n' });
  });

  it('accepts the branch head given by an abbreviated sha and keeps the clone as it is', async () => {
    const result = await cloneAt(head.slice(0, 10));
    expect(result).toMatchObject({ commit: head, version: 'two\n', shallow: 'true' });
  });

  it.each([
    ['a full sha', 'f'.repeat(40)],
    ['an abbreviated sha', 'fffffff'],
  ])('refuses %s that the repository does not have with InvalidInput naming the commit and the branch', async (_kind, commit) => {
    const attempt = shallowClone({ url, branch: 'main', dir: nextDir(), deploymentId: 'd1', commit }, 30_000);
    await expect(attempt).rejects.toMatchObject({ code: ErrorCode.InvalidInput, deploymentId: 'd1', details: { step: 'clone', field: 'commit', commit, branch: 'main' } });
    await expect(shallowClone({ url, branch: 'main', dir: nextDir(), deploymentId: 'd1', commit }, 30_000)).rejects.toThrow(
      `commit ${commit} does not exist in ${url} (looked for it by sha and on branch "main"`,
    );
  });

  it('refuses text that is not a sha before cloning anything', async () => {
    const dir = nextDir();
    await expect(shallowClone({ url, branch: 'main', dir, deploymentId: 'd1', commit: 'main~1' }, 30_000)).rejects.toMatchObject({
      code: ErrorCode.InvalidInput,
      details: { field: 'commit' },
    });
  });
});
