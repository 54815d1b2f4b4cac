import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { KEPT_VERSIONS } from '@kraken/common';
import { commitFiles, freePort, gitFixtureRepo, manifestToml, uniqueName } from '@kraken/testing';
import type { DeployProgress } from '@kraken/runtime';
import { deployerPerTest } from '../test/deployer-per-test.js';
import { get, repoPath, versionedServer } from '../test/fixtures.js';

// a test step, so that a rollback that ran it would show
const APP_MANIFEST = manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "true"', 'roll-me-back');

describe('ProcessDeployer rollback to a kept build', () => {
  const setup = deployerPerTest('kraken-rollback-', { nodeId: 'node-rollback', readyTimeout: '30s', stopTimeout: '3s', pollInterval: '200ms' });

  it('runs the kept build of an earlier commit with no clone, build or test, and keeps the last three versions', async () => {
    const { dir, dataDir, deployer } = setup;
    const repo = await gitFixtureRepo(repoPath(dir.path, 'app'), { 'shipwreck.toml': APP_MANIFEST, 'server.js': versionedServer('v1') });
    const deploymentId = uniqueName('rb').replace(/\./g, '-');
    const hostPort = await freePort();
    const base = { deploymentId, url: repo, branch: 'main', hostPort };
    const v1Commit = (await deployer.deploy(base)).commit;
    const v2Commit = await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');
    await deployer.deploy({ ...base, replace: true });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v2' });
    expect(await deployer.keptCommits(deploymentId)).toEqual([v2Commit, v1Commit]);

    const events: DeployProgress[] = [];
    const startedAt = Date.now();
    const rolledBack = await deployer.deploy({ ...base, replace: true, commit: v1Commit.slice(0, 7), fromKept: true, onProgress: (event) => events.push(event) });
    console.log(`rollback to the kept build answered after ${String(Date.now() - startedAt)} ms`);

    expect(rolledBack).toMatchObject({ commit: v1Commit, fromKept: true, hostPort, state: 'running' });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v1' });
    expect(events.filter((event) => event.kind === 'start').map((event) => event.step)).toEqual(['manifest', 'run', 'ready']);
    expect(await deployer.keptCommits(deploymentId)).toEqual([v1Commit, v2Commit]);

    // two more versions: the oldest (v2, now that v1 ran last) is no longer kept and its folder is gone
    const v3Commit = await commitFiles(repo, { 'server.js': versionedServer('v3') }, 'v3');
    await deployer.deploy({ ...base, replace: true });
    const v4Commit = await commitFiles(repo, { 'server.js': versionedServer('v4') }, 'v4');
    await deployer.deploy({ ...base, replace: true });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v4' });
    expect(await deployer.keptCommits(deploymentId)).toHaveLength(KEPT_VERSIONS);
    expect(await deployer.keptCommits(deploymentId)).toEqual([v4Commit, v3Commit, v1Commit]);
    const keptDir = path.join(dataDir, 'deployments', deploymentId, 'kept');
    // the running version's build is in place; the two before it wait aside
    expect((await readdir(keptDir)).sort()).toEqual([v3Commit, v1Commit].sort());

    // a commit no longer kept is built again, and the result says so
    const rebuilt = await deployer.deploy({ ...base, replace: true, commit: v2Commit, fromKept: true });
    expect(rebuilt).toMatchObject({ commit: v2Commit, fromKept: false });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v2' });

    // removing the deployment removes what it kept
    await deployer.stop(deploymentId);
    expect(await deployer.keptCommits(deploymentId)).toEqual([]);
    await expect(readdir(keptDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('runs the version before again when a redeploy fails its test, keeps the earlier builds, and rolls back to one with no clone, build or test', async () => {
    const { dir, dataDir, deployer } = setup;
    const repo = await gitFixtureRepo(repoPath(dir.path, 'app'), { 'shipwreck.toml': APP_MANIFEST, 'server.js': versionedServer('a') });
    const deploymentId = uniqueName('rbf').replace(/\./g, '-');
    const hostPort = await freePort();
    const base = { deploymentId, url: repo, branch: 'main', hostPort };
    const aCommit = (await deployer.deploy(base)).commit;
    const bCommit = await commitFiles(repo, { 'server.js': versionedServer('b') }, 'b');
    await deployer.deploy({ ...base, replace: true });
    const failingTest = manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "false"', 'roll-me-back');
    await commitFiles(repo, { 'shipwreck.toml': failingTest, 'server.js': versionedServer('c') }, 'c fails its test');

    await expect(deployer.deploy({ ...base, replace: true })).rejects.toMatchObject({ deploymentId, details: expect.objectContaining({ step: 'test' }) as unknown });

    // this runtime stops the old version before it builds; once the new one failed, b runs again
    // from its kept build, on its port, and a's build still waits aside
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'b' });
    expect(await deployer.list()).toMatchObject([{ deploymentId, state: 'running', commit: bCommit, hostPort }]);
    expect(await deployer.keptCommits(deploymentId)).toEqual([bCommit, aCommit]);
    const deploymentDir = path.join(dataDir, 'deployments', deploymentId);
    expect(await readdir(path.join(deploymentDir, 'kept'))).toEqual([aCommit]);

    // an agent restart in between adopts b and leaves the kept builds
    const restarted = await setup.restart();
    expect(await restarted.keptCommits(deploymentId)).toEqual([bCommit, aCommit]);
    expect(await restarted.list()).toMatchObject([{ deploymentId, state: 'running', commit: bCommit }]);

    const events: DeployProgress[] = [];
    const rolledBack = await restarted.deploy({ ...base, replace: true, commit: aCommit.slice(0, 7), fromKept: true, onProgress: (event) => events.push(event) });

    expect(rolledBack).toMatchObject({ commit: aCommit, fromKept: true, hostPort, state: 'running' });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'a' });
    expect(events.filter((event) => event.kind === 'start').map((event) => event.step)).toEqual(['manifest', 'run', 'ready']);
    expect(await restarted.keptCommits(deploymentId)).toEqual([aCommit, bCommit]);
  });

  it('removes every build it kept, and the version that runs again after a failed redeploy, when the deployment is stopped', async () => {
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
