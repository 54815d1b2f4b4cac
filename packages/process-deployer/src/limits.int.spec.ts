// Issue 17 item 2: memory and CPU limits hold in the process runtime too, through the kernel's
// control groups (v1 or v2, whichever this machine has). An app that allocates past its memory
// limit is ended by the kernel and reported with that reason; a stop removes its group.
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { eventually, freePort, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { AppRunEvent } from '@kraken/runtime';
import { get, groupFile, repoPath, scriptAppRepo } from '../test/fixtures.js';
import { ProcessDeployer } from './index.js';

/** Serves HTTP; GET /hog keeps allocating memory it touches, until something ends it. */
const HOG = `
const http = require('node:http');
const held = [];
http.createServer((req, res) => {
  if (req.url === '/hog') {
    res.end('allocating');
    setInterval(() => { for (let i = 0; i < 8; i++) held.push(Buffer.alloc(1 << 20, 1)); }, 10);
    return;
  }
  res.end('ok');
}).listen(Number(process.env.PORT));
`;

describe('ProcessDeployer holds apps to their memory and CPU limits', () => {
  let dir: TempDir;
  let deployer: ProcessDeployer;
  const deploymentId = uniqueName('limited').replace(/\./g, '-');

  beforeAll(async () => {
    dir = await tempDir('kraken-limits-');
    deployer = await ProcessDeployer.create({ dataDir: path.join(dir.path, 'data'), nodeId: 'node-limits', readyTimeout: '20s', stopTimeout: '2s', restartDelay: '200ms' });
  });

  afterAll(async () => {
    await deployer.stop(deploymentId).catch(() => undefined);
    await deployer.close();
    await dir.remove();
  });

  it('runs the app in a group of its own, reports the kernel ending it at its memory limit, and removes the group on stop', async () => {
    // this suite runs as root on a machine with control groups (CI's): a node that cannot enforce says so instead
    // no app user asked for here: the node says why its apps run as the agent's user
    expect(deployer.isolation).toEqual({ runsAs: 'agent', limits: true, userWhyNot: 'running apps as a dedicated user is turned off (--no-app-user)' });
    const repo = await scriptAppRepo(repoPath(dir.path, 'hog'), HOG, 'test = ""');
    const runs: AppRunEvent[] = [];
    const watcher = await deployer.watchRuns((event) => runs.push(event));
    try {
      const deployed = await deployer.deploy({ deploymentId, url: repo, branch: 'main', hostPort: await freePort(), limits: { memoryMb: 64, cpus: 0.5 } });
      const pid = Number(deployed.instanceId);
      expect((await deployer.stats(deploymentId)).maxMemMb).toBe(64);
      const memoryLimit = await groupFile(pid, 'memory.limit_in_bytes').catch(() => groupFile(pid, 'memory.max'));
      expect(await readFile(memoryLimit, 'utf8')).toBe(`${String(64 * 1024 * 1024)}\n`);
      const cpuQuota = await groupFile(pid, 'cpu.cfs_quota_us').catch(() => groupFile(pid, 'cpu.max'));
      expect((await readFile(cpuQuota, 'utf8')).trim()).toMatch(/^50000( 100000)?$/);

      await expect(get(deployed.hostPort ?? 0, '/hog')).resolves.toMatchObject({ status: 200 });
      const exit = await eventually(() => runs.find((event) => event.kind === 'exit'), 30_000, 'the app ended by the kernel');
      // the kernel kills the app's node (SIGKILL); the shell of its run command then exits with 137
      expect(exit).toMatchObject({ kind: 'exit', deploymentId, cause: 'it went past its memory limit of 64 MB' });
      // the runtime restarts it, within the same limits
      await eventually(() => runs.find((event) => event.kind === 'start'), 30_000, 'the restart');
      const stderr = await readFile(path.join(dir.path, 'data', 'deployments', deploymentId, 'stderr.log'), 'utf8');
      expect(stderr).toMatch(/kraken: the app (was killed by SIGKILL|exited with code 137): it went past its memory limit of 64 MB after [\d.]+ s; restarting/);

      const group = path.dirname(memoryLimit);
      await deployer.stop(deploymentId);
      await expect(access(group)).rejects.toThrow(/ENOENT/);
    } finally {
      watcher.stop();
    }
  });
});
