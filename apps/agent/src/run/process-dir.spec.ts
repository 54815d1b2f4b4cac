import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '@kraken/testing';
import { hasDeployments, processRuntimeDir, removeIfNoApps } from './process-dir.js';

const base = { dataDir: '/root/.kraken', appUser: 'kraken-app', isRoot: true, appsRoot: '/var/lib/kraken-apps', olderApps: false };

describe('processRuntimeDir', () => {
  it('keeps apps of the app user outside the private data dir, one folder per data dir', () => {
    const chosen = processRuntimeDir(base);
    expect(chosen.dir).toMatch(/^\/var\/lib\/kraken-apps\/[0-9a-f]{12}$/);
    expect(chosen.inDataDir).toBe(false);
    expect(chosen).not.toHaveProperty('note');
    expect(processRuntimeDir({ ...base, dataDir: '/srv/other' }).dir).not.toBe(chosen.dir);
  });

  it('keeps them in the data dir when they run as the agent: turned off, or an agent that is not root', () => {
    expect(processRuntimeDir({ ...base, appUser: undefined })).toEqual({ dir: '/root/.kraken/process', inDataDir: true });
    expect(processRuntimeDir({ ...base, isRoot: false })).toEqual({ dir: '/root/.kraken/process', inDataDir: true });
  });

  it('adopts apps an earlier agent deployed where they are, and says why they still run as the agent', () => {
    expect(processRuntimeDir({ ...base, olderApps: true })).toEqual({
      dir: '/root/.kraken/process',
      inDataDir: true,
      note: "apps deployed before apps ran as kraken-app are in /root/.kraken/process: they, and new ones, run as the agent's user until none is left there (destroy or move them)",
    });
  });
});

describe('hasDeployments', () => {
  it('sees a deployment folder in the data dir, and none where there is no folder at all', async () => {
    await using dir = await tempDir('kraken-process-dir-');
    expect(await hasDeployments(dir.path)).toBe(false);
    await mkdir(path.join(dir.path, 'process', 'deployments'), { recursive: true });
    expect(await hasDeployments(dir.path)).toBe(false);
    await mkdir(path.join(dir.path, 'process', 'deployments', 'hello-1'));
    expect(await hasDeployments(dir.path)).toBe(true);
  });
});

describe('removeIfNoApps', () => {
  it('removes a runtime folder with no deployment left, and keeps one with a deployment', async () => {
    await using dir = await tempDir('kraken-process-dir-');
    const empty = path.join(dir.path, 'empty');
    await mkdir(path.join(empty, 'deployments'), { recursive: true });
    await mkdir(path.join(empty, 'home', '.npm'), { recursive: true });
    await removeIfNoApps(empty);
    await expect(stat(empty)).rejects.toThrow(/ENOENT/);

    const used = path.join(dir.path, 'used');
    await mkdir(path.join(used, 'deployments', 'hello-1'), { recursive: true });
    await removeIfNoApps(used);
    expect((await stat(path.join(used, 'deployments', 'hello-1'))).isDirectory()).toBe(true);
  });
});
