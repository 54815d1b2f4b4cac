import path from 'node:path';
import { KEPT_VERSIONS } from '@kraken/common';
import { commitFiles, freePort, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { DeployProgress, DeployResult } from '@kraken/runtime';
import { cleanupNode, docker, gitRepo, httpGet, imageTagExists, manifest, templatesDir } from '../test/fixtures.js';
import { DockerDeployer } from './deployer.js';
import { keptTag } from './kept-images.js';

// Several helpers build on the same two cores: generous limits, and no assertion on how long anything takes.
const DEPLOY_TIMEOUT_MS = 400_000;

const nodeId = uniqueName('rollback-it');
let work: TempDir;
let deployer: DockerDeployer;

beforeAll(async () => {
  work = await tempDir('kraken-deployer-rollback-');
  deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(work.path, 'work'), templatesDir, readyTimeout: '60s' });
});

afterAll(async () => {
  try {
    await cleanupNode(nodeId);
  } finally {
    await work.remove();
  }
});

/** A node app without dependencies that answers every request with its version. */
function appSource(version: string): string {
  return `require('node:http').createServer((req, res) => res.end(${JSON.stringify(version)})).listen(Number(process.env.PORT));\n`;
}

// a test step, so that a rollback that ran it would show
const appManifest = manifest('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "true"', 'rollback-app');

describe('DockerDeployer rollback to a kept image (real engine)', () => {
  it(
    'runs the kept image of an earlier commit with no clone, build or test, and keeps the last three versions',
    async () => {
      const deploymentId = `rb-${Math.random().toString(36).slice(2, 8)}`;
      const repo = await gitRepo(path.join(work.path, deploymentId), { 'shipwreck.toml': appManifest, 'server.js': appSource('v1') });
      const hostPort = await freePort();
      const base = { deploymentId, url: repo, branch: 'main', hostPort };
      const v1 = await deployer.deploy(base);
      const v1Commit = v1.commit;
      const v2Commit = await commitFiles(repo, { 'server.js': appSource('v2') }, 'v2');
      await deployer.deploy({ ...base, replace: true });
      expect((await httpGet(hostPort)).body).toBe('v2');
      expect(await deployer.keptCommits(deploymentId)).toEqual([v2Commit, v1Commit]);

      const events: DeployProgress[] = [];
      const startedAt = Date.now();
      const rolledBack: DeployResult = await deployer.deploy({ ...base, replace: true, commit: v1Commit.slice(0, 7), fromKept: true, onProgress: (event) => events.push(event) });
      console.log(`rollback to the kept image answered after ${String(Date.now() - startedAt)} ms`);

      expect(rolledBack).toMatchObject({ commit: v1Commit, fromKept: true, hostPort, state: 'running' });
      expect((await httpGet(hostPort)).body).toBe('v1');
      expect(events.filter((event) => event.kind === 'start').map((event) => event.step)).toEqual(['run', 'ready']);
      expect(await deployer.keptCommits(deploymentId)).toEqual([v1Commit, v2Commit]);

      // two more versions: the oldest (v2, now that v1 ran last) is no longer kept and its tag is gone
      const v3Commit = await commitFiles(repo, { 'server.js': appSource('v3') }, 'v3');
      await deployer.deploy({ ...base, replace: true, commit: v3Commit });
      const v4Commit = await commitFiles(repo, { 'server.js': appSource('v4') }, 'v4');
      await deployer.deploy({ ...base, replace: true, commit: v4Commit });
      expect((await httpGet(hostPort)).body).toBe('v4');
      expect(await deployer.keptCommits(deploymentId)).toHaveLength(KEPT_VERSIONS);
      expect(await deployer.keptCommits(deploymentId)).toEqual([v4Commit, v3Commit, v1Commit]);
      expect(await imageTagExists(keptTag('rollback-app', deploymentId, v2Commit))).toBe(false);
      expect(await imageTagExists(keptTag('rollback-app', deploymentId, v1Commit))).toBe(true);

      // a prune spares the kept images
      await deployer.pruneImages();
      expect(await imageTagExists(keptTag('rollback-app', deploymentId, v1Commit))).toBe(true);

      // a commit no longer kept is built again, and the result says so
      const rebuilt = await deployer.deploy({ ...base, replace: true, commit: v2Commit, fromKept: true });
      expect(rebuilt).toMatchObject({ commit: v2Commit, fromKept: false });
      expect((await httpGet(hostPort)).body).toBe('v2');

      // removing the deployment frees what it kept
      await deployer.stop(deploymentId);
      expect(await deployer.keptCommits(deploymentId)).toEqual([]);
      expect(await imageTagExists(keptTag('rollback-app', deploymentId, v1Commit))).toBe(false);
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    'keeps the running version and the kept images when a redeploy fails its test, and rolls back to an earlier one with no build',
    async () => {
      const deploymentId = `rbf-${Math.random().toString(36).slice(2, 8)}`;
      const repo = await gitRepo(path.join(work.path, deploymentId), { 'shipwreck.toml': appManifest, 'server.js': appSource('a') });
      const hostPort = await freePort();
      const base = { deploymentId, url: repo, branch: 'main', hostPort };
      const aCommit = (await deployer.deploy(base)).commit;
      const bCommit = await commitFiles(repo, { 'server.js': appSource('b') }, 'b');
      await deployer.deploy({ ...base, replace: true });
      const failingTest = manifest('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "false"', 'rollback-app');
      await commitFiles(repo, { 'shipwreck.toml': failingTest, 'server.js': appSource('c') }, 'c fails its test');

      await expect(deployer.deploy({ ...base, replace: true })).rejects.toMatchObject({ deploymentId, details: expect.objectContaining({ step: 'test' }) as unknown });

      // this runtime swaps containers only after the test: the old version still serves
      expect((await httpGet(hostPort)).body).toBe('b');
      expect(await deployer.keptCommits(deploymentId)).toEqual([bCommit, aCommit]);

      const events: DeployProgress[] = [];
      const rolledBack = await deployer.deploy({ ...base, replace: true, commit: aCommit, fromKept: true, onProgress: (event) => events.push(event) });

      expect(rolledBack).toMatchObject({ commit: aCommit, fromKept: true, hostPort, state: 'running' });
      expect((await httpGet(hostPort)).body).toBe('a');
      expect(events.filter((event) => event.kind === 'start').map((event) => event.step)).toEqual(['run', 'ready']);
      await deployer.stop(deploymentId);
    },
    DEPLOY_TIMEOUT_MS,
  );
});
