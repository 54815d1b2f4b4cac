import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { freePort, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { DeployProgress } from '@kraken/runtime';
import { cleanupNode, docker, gitRepo, httpGet, imageTagExists, manifest, templatesDir } from '../test/fixtures.js';
import { DockerDeployer } from './deployer.js';
import { keptTag } from './kept-images.js';

// Several helpers build on the same two cores: generous limits, and no assertion on how long anything takes.
const DEPLOY_TIMEOUT_MS = 400_000;

const nodeId = uniqueName('failover-it');
let work: TempDir;
let workDir: string;
let deployer: DockerDeployer;

beforeAll(async () => {
  work = await tempDir('kraken-deployer-failover-');
  workDir = path.join(work.path, 'work');
  deployer = new DockerDeployer({ docker, nodeId, workDir, templatesDir, readyTimeout: '60s' });
});

afterAll(async () => {
  try {
    await cleanupNode(nodeId);
  } finally {
    await work.remove();
  }
});

// a test step, so that a deploy that ran it would show
const appManifest = manifest('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "true"', 'failover-app');
const server = `require('node:http').createServer((req, res) => res.end('prepared')).listen(Number(process.env.PORT));\n`;

async function checkoutsLeft(): Promise<string[]> {
  return await readdir(path.join(workDir, 'builds')).catch(() => []);
}

describe('DockerDeployer failover builds (real engine)', () => {
  it(
    'builds and keeps a commit ahead of time, so a deploy of it with fromKept only runs it; a second prepare finds it kept; forgetKept frees it',
    async () => {
      const deploymentId = `fo-${Math.random().toString(36).slice(2, 8)}`;
      const repo = await gitRepo(path.join(work.path, deploymentId), { 'shipwreck.toml': appManifest, 'server.js': server });
      const commit = gitHead(repo).slice(0, 7);

      const prepared = await deployer.prepare({ deploymentId, url: repo, branch: 'main', commit });
      expect(prepared).toMatchObject({ deploymentId, alreadyKept: false });
      expect(prepared.commit.startsWith(commit)).toBe(true);
      expect(await deployer.keptCommits(deploymentId)).toEqual([prepared.commit]);
      expect(await imageTagExists(keptTag('failover-app', deploymentId, prepared.commit))).toBe(true);
      // built, not run: no container, and no checkout left
      expect(await deployer.list()).toEqual([]);
      expect(await checkoutsLeft()).toEqual([]);

      expect(await deployer.prepare({ deploymentId, url: repo, branch: 'main', commit: prepared.commit })).toEqual({ deploymentId, commit: prepared.commit, alreadyKept: true });

      // the deployment moves here
      const hostPort = await freePort();
      const events: DeployProgress[] = [];
      const moved = await deployer.deploy({ deploymentId, url: repo, branch: 'main', commit: prepared.commit, fromKept: true, hostPort, onProgress: (event) => events.push(event) });
      expect(moved).toMatchObject({ commit: prepared.commit, fromKept: true, state: 'running', hostPort });
      expect(events.filter((event) => event.kind === 'start').map((event) => event.step)).toEqual(['run', 'ready']);
      expect((await httpGet(hostPort)).body).toBe('prepared');

      // while it runs here, its builds are its deploys' to keep
      await expect(deployer.prepare({ deploymentId, url: repo, branch: 'main', commit })).rejects.toMatchObject({ code: 'CONFLICT', deploymentId });
      await expect(deployer.forgetKept(deploymentId)).rejects.toMatchObject({ code: 'CONFLICT', deploymentId });

      // it moves away again; this node keeps a failover build of it until told to forget it
      await deployer.stop(deploymentId);
      await deployer.prepare({ deploymentId, url: repo, branch: 'main', commit });
      expect(await deployer.keptCommits(deploymentId)).toEqual([prepared.commit]);
      await deployer.forgetKept(deploymentId);
      expect(await deployer.keptCommits(deploymentId)).toEqual([]);
      expect(await imageTagExists(keptTag('failover-app', deploymentId, prepared.commit))).toBe(false);
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    'fails clearly on a repository it cannot reach and leaves nothing behind',
    async () => {
      const deploymentId = `fox-${Math.random().toString(36).slice(2, 8)}`;
      const url = path.join(work.path, 'no-such-repo');

      const failure = deployer.prepare({ deploymentId, url, branch: 'main', commit: 'abcdef1' });

      await expect(failure).rejects.toMatchObject({ deploymentId, details: expect.objectContaining({ step: 'clone' }) as unknown });
      await expect(failure).rejects.toThrow(/no-such-repo/);
      expect(await deployer.keptCommits(deploymentId)).toEqual([]);
      expect(await checkoutsLeft()).toEqual([]);
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    'fails clearly when the build fails and keeps no image',
    async () => {
      const deploymentId = `fob-${Math.random().toString(36).slice(2, 8)}`;
      // an app's own Dockerfile whose build step fails
      const repo = await gitRepo(path.join(work.path, deploymentId), {
        'shipwreck.toml': manifest('lang = "custom"\nport = 3000', 'failover-broken'),
        Dockerfile: 'FROM kraken-base/static:1\nRUN echo "kraken failover build breaks here" && false\n',
      });
      const commit = gitHead(repo);

      const failure = deployer.prepare({ deploymentId, url: repo, branch: 'main', commit });

      await expect(failure).rejects.toMatchObject({ deploymentId, details: expect.objectContaining({ step: 'build' }) as unknown });
      await expect(failure).rejects.toThrow(/kraken failover build breaks here/);
      expect(await deployer.keptCommits(deploymentId)).toEqual([]);
      expect(await imageTagExists(keptTag('failover-broken', deploymentId, commit))).toBe(false);
      expect(await checkoutsLeft()).toEqual([]);
    },
    DEPLOY_TIMEOUT_MS,
  );
});

function gitHead(repo: string): string {
  return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
}
