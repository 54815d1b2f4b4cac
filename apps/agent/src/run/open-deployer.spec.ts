import { chmod, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { MemoryLogger } from '@kraken/common';
import { tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { openDeployer } from './open-deployer.js';

describe('openDeployer', () => {
  let dir: TempDir;

  beforeEach(async () => {
    dir = await tempDir('kraken-open-deployer-');
  });

  afterEach(async () => {
    await dir.remove();
  });

  it('warns in one line, naming the socket and what the process runtime enforces, when --runtime auto finds no Docker engine', async () => {
    const logger = new MemoryLogger();
    const socket = path.join(dir.path, 'no-docker.sock');
    const opened = await openDeployer({ runtime: 'auto', dockerSocket: socket, dataDir: dir.path, nodeId: 'laptop', logger, pingTimeoutMs: 500 });
    try {
      expect(opened.runtime).toBe('process');
      const said = logger.records.filter((record) => record.level !== 'debug' && record.message.includes('supervised processes'));
      expect(said).toEqual([
        expect.objectContaining({
          level: 'warn',
          message: expect.stringMatching(
            new RegExp(`^no Docker engine answered at ${socket.replace(/[.]/g, '\\.')} \\(.*ENOENT.*\\): apps run as supervised processes \\(runs as the agent's user, (no )?limits\\)$`),
          ) as string,
        }),
      ]);
    } finally {
      await opened.close();
    }
  });

  it('says plainly, without a warning, that --runtime process runs apps as processes and what that enforces', async () => {
    const logger = new MemoryLogger();
    const opened = await openDeployer({ runtime: 'process', dockerSocket: '/var/run/docker.sock', dataDir: dir.path, nodeId: 'laptop', logger });
    try {
      expect(logger.records.filter((record) => record.level === 'warn')).toEqual([]);
      // limits hold where the agent may create control groups (as root here), and the line says which
      expect(logger.records).toContainEqual(
        expect.objectContaining({ level: 'info', message: expect.stringMatching(/^--runtime process: apps run as supervised processes \(runs as the agent's user, (no )?limits\)$/) as string }),
      );
    } finally {
      await opened.close();
    }
  });

  it("runs process-runtime apps as the app user in a folder of theirs outside the data dir, and says so", async () => {
    const logger = new MemoryLogger();
    // the test's temp folder is 0700: the apps' root under it is opened for traversal as /var/lib would be
    const appsRoot = path.join(dir.path, 'apps');
    await mkdir(appsRoot, { mode: 0o755 });
    await chmod(dir.path, 0o711);
    const dataDir = path.join(dir.path, 'data');
    const opened = await openDeployer({ runtime: 'process', dockerSocket: '/var/run/docker.sock', dataDir, nodeId: 'laptop', logger, appUser: 'kraken-app', appsRoot });
    try {
      // as root (CI) with a node on PATH the app user may run: /usr/bin's
      expect(logger.records).toContainEqual(
        expect.objectContaining({ level: 'info', message: expect.stringMatching(/^--runtime process: apps run as supervised processes \(runs as user kraken-app, (no )?limits\)$/) as string }),
      );
      expect(await readdir(appsRoot)).toEqual([expect.stringMatching(/^[0-9a-f]{12}$/)]);
      expect(await readdir(dataDir).catch(() => [])).not.toContain('process');
    } finally {
      await opened.close();
    }
    // no app was left in it: a clean stop leaves nothing behind there
    expect(await readdir(appsRoot)).toEqual([]);
  });
});
