import path from 'node:path';
import { eventually, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { DeployResult, LogLine } from '@kraken/runtime';
import { cleanupNode, containersOf, docker, gitRepo, httpGet, manifest, nodeServer, templatesDir } from '../test/fixtures.js';
import { DockerDeployer } from './deployer.js';

const nodeId = uniqueName('reconcile-it');
const deploymentId = `live-${Math.random().toString(36).slice(2, 8)}`;
let work: TempDir;
let first: DeployResult;

function newDeployer(): DockerDeployer {
  return new DockerDeployer({ docker, nodeId, workDir: path.join(work.path, 'work'), templatesDir, readyTimeout: '60s', statsInterval: '300ms' });
}

beforeAll(async () => {
  work = await tempDir('kraken-deployer-reconcile-');
  const repo = await gitRepo(path.join(work.path, 'repo'), {
    'shipwreck.toml': manifest('lang = "node"\nport = 3000\nrun = "node server.js"\nmemory = "256m"', 'Live-App'.toLowerCase()),
    'server.js': nodeServer,
  });
  first = await newDeployer().deploy({ deploymentId, url: repo, branch: 'main', env: { GREETING: 'request' } });
});

afterAll(async () => {
  await cleanupNode(nodeId);
  await work.remove();
});

describe('a running deployment', () => {
  it('is found again by a new deployer instance and never started twice', async () => {
    const restarted = newDeployer();
    const listed = await restarted.list();
    expect(listed).toEqual([expect.objectContaining({ deploymentId, state: 'running', hostPort: first.hostPort, commit: first.commit, port: 3000, appName: 'live-app' })]);

    const again = await restarted.deploy({ deploymentId, url: '/not/used/when/reused', branch: 'main' });
    expect(again.reused).toBe(true);
    expect(again.instanceId).toBe(first.instanceId);
    expect(await containersOf(nodeId, deploymentId)).toHaveLength(1);
  });

  it('serves with the request env overriding the manifest and is labelled for this node', async () => {
    expect((await httpGet(first.hostPort ?? 0)).body).toBe('hello from node request');
    const info = await docker.getContainer(first.instanceId).inspect();
    expect(info.Config.Labels).toMatchObject({ 'org.kraken.deployment': deploymentId, 'org.kraken.node': nodeId, 'org.kraken.app': 'live-app', 'org.kraken.port': '3000' });
    expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(info.HostConfig.Init).toBe(true);
    expect(info.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
    expect(info.Name).toBe(`/kraken-${nodeId}-${deploymentId}`);
  });

  it('streams its log lines as they are written', async () => {
    const lines: LogLine[] = [];
    const follower = await newDeployer().followLogs(deploymentId, (line) => lines.push(line), { since: new Date(Date.now() - 60_000) });
    try {
      await httpGet(first.hostPort ?? 0, '/logged-path');
      await eventually(() => lines.some((line) => line.text === 'request GET /logged-path'), 10_000, 'the logged request line', 100);
    } finally {
      follower.stop();
    }
    await follower.done;
    const logged = lines.find((line) => line.text === 'request GET /logged-path');
    expect(logged).toMatchObject({ stream: 'stdout' });
    expect(Math.abs((logged?.at.getTime() ?? 0) - Date.now())).toBeLessThan(30_000);
    expect(lines.some((line) => line.text === 'listening on 3000')).toBe(true);
  });

  it('resumes right after a line by its cursor: every later line once, none before, the ones written while nobody followed too', async () => {
    const port = first.hostPort ?? 0;
    const requests = (texts: string[]): string[] => texts.filter((text) => text.startsWith('request GET /r-'));
    const seen: LogLine[] = [];
    const before = await newDeployer().followLogs(deploymentId, (line) => seen.push(line), { since: new Date(Date.now() - 60_000) });
    try {
      for (const name of ['/r-a1', '/r-a2', '/r-a3']) await httpGet(port, name);
      await eventually(() => seen.some((line) => line.text === 'request GET /r-a3'), 10_000, 'the third request line', 100);
    } finally {
      before.stop();
    }
    await before.done;
    const cursor = seen.find((line) => line.text === 'request GET /r-a1')?.cursor;
    expect(cursor).toMatch(/^d1:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    // written while no agent follows (it restarts)
    for (const name of ['/r-b1', '/r-b2']) await httpGet(port, name);

    const resumed: string[] = [];
    const skipped: number[] = [];
    const after = await newDeployer().followLogs(deploymentId, (line) => resumed.push(line.text), { after: cursor ?? '', since: new Date(), onSkipped: (lines) => skipped.push(lines) });
    try {
      await httpGet(port, '/r-c1');
      await eventually(() => resumed.includes('request GET /r-c1'), 10_000, 'the live request line', 100);
    } finally {
      after.stop();
    }
    await after.done;
    expect(requests(resumed)).toEqual(['/r-a2', '/r-a3', '/r-b1', '/r-b2', '/r-c1'].map((name) => `request GET ${name}`));
    expect(skipped).toEqual([]);
  });

  it('reports cpu, memory and image size', async () => {
    const deployer = newDeployer();
    const sample = await deployer.stats(deploymentId);
    expect(sample.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(sample.memMb).toBeGreaterThan(1);
    expect(sample.maxMemMb).toBe(256);
    expect(sample.imageSizeMb).toBeGreaterThan(50);
    // the next sample measures cpu% since this one, and the image size is remembered
    const next = await deployer.stats(deploymentId);
    expect(next.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(next.memMb).toBeGreaterThan(1);
    expect(next.imageSizeMb).toBe(sample.imageSizeMb);
  });

  it('keeps its image when pruning and loses it once stopped', async () => {
    const deployer = newDeployer();
    expect(await deployer.pruneImages()).toEqual([]);
    await deployer.stop(deploymentId);
    expect(await containersOf(nodeId, deploymentId)).toEqual([]);
    expect(await deployer.list()).toEqual([]);
    expect(await deployer.pruneImages()).toEqual([first.artifact]);
  });
});
