import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { KEPT_VERSIONS } from '@kraken/common';
import { commitFiles, eventuallyPasses, freePort, gitFixtureRepo, manifestToml, uniqueName } from '@kraken/testing';
import type { DeployRequest, DeployResult } from '@kraken/runtime';
import type { DeployProgress } from '@kraken/runtime';
import { deployerPerTest } from '../test/deployer-per-test.js';
import { get, repoPath, versionedServer } from '../test/fixtures.js';

// a test step, so that a rollback that ran it would show
const APP_MANIFEST = manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "true"', 'roll-me-back');

describe('ProcessDeployer rollback to a kept build', () => {
  const setup = deployerPerTest('kraken-rollback-', { nodeId: 'node-rollback', readyTimeout: '30s', stopTimeout: '3s', pollInterval: '200ms', drainTime: '200ms' });

  /** Whether the deployment's reported port answers with `body`. */
  async function serves(deployed: DeployResult, body: string): Promise<void> {
    await expect(get(deployed.hostPort ?? 0)).resolves.toMatchObject({ status: 200, body });
  }

  /** Each redeploy asks for the port the deployment reported last, as the orchestrator does. */
  function at(base: DeployRequest, deployed: DeployResult): DeployRequest {
    return { ...base, ...(deployed.hostPort === undefined ? {} : { hostPort: deployed.hostPort }) };
  }

  it('runs the kept build of an earlier commit with no clone, build or test, and keeps the last three versions', async () => {
    const { dir, dataDir, deployer } = setup;
    const repo = await gitFixtureRepo(repoPath(dir.path, 'app'), { 'shipwreck.toml': APP_MANIFEST, 'server.js': versionedServer('v1') });
    const deploymentId = uniqueName('rb').replace(/\./g, '-');
    const base = { deploymentId, url: repo, branch: 'main', hostPort: await freePort() };
    const v1 = await deployer.deploy(base);
    const v2Commit = await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');
    const v2 = await deployer.deploy({ ...at(base, v1), replace: true });
    await serves(v2, 'v2');
    expect(await deployer.keptCommits(deploymentId)).toEqual([v2Commit, v1.commit]);

    const events: DeployProgress[] = [];
    const startedAt = Date.now();
    const rolledBack = await deployer.deploy({ ...at(base, v2), replace: true, commit: v1.commit.slice(0, 7), fromKept: true, onProgress: (event) => events.push(event) });
    console.log(`rollback to the kept build answered after ${String(Date.now() - startedAt)} ms`);

    expect(rolledBack).toMatchObject({ commit: v1.commit, fromKept: true, state: 'running' });
    await serves(rolledBack, 'v1');
    expect(events.filter((event) => event.kind === 'start').map((event) => event.step)).toEqual(['manifest', 'run', 'ready']);
    expect(await deployer.keptCommits(deploymentId)).toEqual([v1.commit, v2Commit]);

    // two more versions: the oldest (v2, now that v1 ran last) is no longer kept and its folder is gone
    const v3Commit = await commitFiles(repo, { 'server.js': versionedServer('v3') }, 'v3');
    const v3 = await deployer.deploy({ ...at(base, rolledBack), replace: true });
    const v4Commit = await commitFiles(repo, { 'server.js': versionedServer('v4') }, 'v4');
    const v4 = await deployer.deploy({ ...at(base, v3), replace: true });
    await serves(v4, 'v4');
    expect(await deployer.keptCommits(deploymentId)).toHaveLength(KEPT_VERSIONS);
    expect(await deployer.keptCommits(deploymentId)).toEqual([v4Commit, v3Commit, v1.commit]);
    // one folder per kept version, once the replaced versions drained
    const versionsDir = path.join(dataDir, 'deployments', deploymentId, 'versions');
    await eventuallyPasses(async () => {
      expect(await readdir(versionsDir)).toHaveLength(KEPT_VERSIONS);
    }, 10_000);

    // a commit no longer kept is built again, and the result says so
    const rebuilt = await deployer.deploy({ ...at(base, v4), replace: true, commit: v2Commit, fromKept: true });
    expect(rebuilt).toMatchObject({ commit: v2Commit, fromKept: false });
    await serves(rebuilt, 'v2');

    // removing the deployment removes what it kept
    await deployer.stop(deploymentId);
    expect(await deployer.keptCommits(deploymentId)).toEqual([]);
    await expect(readdir(versionsDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('serves on with the running version when a redeploy fails its test, keeps the earlier builds, and rolls back to one with no clone, build or test after an agent restart', async () => {
    const { dir, dataDir, deployer } = setup;
    const repo = await gitFixtureRepo(repoPath(dir.path, 'app'), { 'shipwreck.toml': APP_MANIFEST, 'server.js': versionedServer('a') });
    const deploymentId = uniqueName('rbf').replace(/\./g, '-');
    const base = { deploymentId, url: repo, branch: 'main', hostPort: await freePort() };
    const a = await deployer.deploy(base);
    const bCommit = await commitFiles(repo, { 'server.js': versionedServer('b') }, 'b');
    const b = await deployer.deploy({ ...at(base, a), replace: true });
    const failingTest = manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "false"', 'roll-me-back');
    await commitFiles(repo, { 'shipwreck.toml': failingTest, 'server.js': versionedServer('c') }, 'c fails its test');

    await expect(deployer.deploy({ ...at(base, b), replace: true })).rejects.toMatchObject({ deploymentId, details: expect.objectContaining({ step: 'test' }) as unknown });

    // b was never stopped, and a's build still waits in its folder
    await serves(b, 'b');
    expect(await deployer.list()).toMatchObject([{ deploymentId, state: 'running', commit: bCommit, instanceId: b.instanceId, hostPort: b.hostPort }]);
    expect(await deployer.keptCommits(deploymentId)).toEqual([bCommit, a.commit]);
    const versionsDir = path.join(dataDir, 'deployments', deploymentId, 'versions');
    await eventuallyPasses(async () => {
      expect(await readdir(versionsDir)).toHaveLength(2);
    }, 10_000);

    // an agent restart in between adopts b from its folder and leaves the kept builds
    const restarted = await setup.restart();
    expect(await restarted.keptCommits(deploymentId)).toEqual([bCommit, a.commit]);
    expect(await restarted.list()).toMatchObject([{ deploymentId, state: 'running', commit: bCommit, instanceId: b.instanceId }]);

    const events: DeployProgress[] = [];
    const rolledBack = await restarted.deploy({ ...at(base, b), replace: true, commit: a.commit.slice(0, 7), fromKept: true, onProgress: (event) => events.push(event) });

    expect(rolledBack).toMatchObject({ commit: a.commit, fromKept: true, state: 'running' });
    await serves(rolledBack, 'a');
    expect(events.filter((event) => event.kind === 'start').map((event) => event.step)).toEqual(['manifest', 'run', 'ready']);
    expect(await restarted.keptCommits(deploymentId)).toEqual([a.commit, bCommit]);
  });

  it('removes every build it kept, and the version that serves on after a failed redeploy, when the deployment is stopped', async () => {
    const { dir, dataDir, deployer } = setup;
    const repo = await gitFixtureRepo(repoPath(dir.path, 'app'), { 'shipwreck.toml': APP_MANIFEST, 'server.js': versionedServer('a') });
    const deploymentId = uniqueName('rbs').replace(/\./g, '-');
    const base = { deploymentId, url: repo, branch: 'main', hostPort: await freePort() };
    await deployer.deploy(base);
    const failingTest = manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "false"', 'roll-me-back');
    await commitFiles(repo, { 'shipwreck.toml': failingTest }, 'fails its test');
    await expect(deployer.deploy({ ...base, replace: true })).rejects.toMatchObject({ details: expect.objectContaining({ step: 'test' }) as unknown });
    expect(await deployer.keptCommits(deploymentId)).toHaveLength(1);
    await expect(get(base.hostPort)).resolves.toMatchObject({ status: 200, body: 'a' });

    await deployer.stop(deploymentId);
    await expect(readdir(path.join(dataDir, 'deployments', deploymentId))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(deployer.stop(deploymentId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
