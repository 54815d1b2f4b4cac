import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { freePort, uniqueName } from '@kraken/testing';
import type { DeployProgress } from '@kraken/runtime';
import { deployerPerTest } from '../test/deployer-per-test.js';
import { get, nodeAppRepo, repoPath } from '../test/fixtures.js';

/** The app's install writes the nice value it ran at, to show the failover build's installs run niced. */
const RECORDS_NICENESS = {
  'package.json': JSON.stringify({ name: 'hello-node', version: '1.0.0', private: true, dependencies: { greet: 'file:greet' }, scripts: { postinstall: 'nice > niceness.txt' } }),
};

describe('ProcessDeployer failover builds', () => {
  const setup = deployerPerTest('kraken-failover-', { nodeId: 'node-failover', readyTimeout: '30s', stopTimeout: '3s', pollInterval: '200ms' });

  it('installs and keeps a commit ahead of time at nice 19, so a deploy of it with fromKept runs it with no clone, build or test', async () => {
    const { dir, dataDir, deployer } = setup;
    const repo = await nodeAppRepo(repoPath(dir.path, 'app'), { test: 'false', extra: RECORDS_NICENESS });
    const deploymentId = uniqueName('fo').replace(/\./g, '-');
    const deploymentDir = path.join(dataDir, 'deployments', deploymentId);

    const prepared = await deployer.prepare({ deploymentId, url: repo, branch: 'main', commit: await headOf(repo) });

    expect(prepared).toMatchObject({ deploymentId, alreadyKept: false });
    expect(await deployer.keptCommits(deploymentId)).toEqual([prepared.commit]);
    // built, not run (its failing test never ran): nothing runs, the build waits in its version folder
    expect(await deployer.list()).toEqual([]);
    expect((await readdir(deploymentDir)).sort()).toEqual(['kept.json', 'versions']);
    const builds = await readdir(path.join(deploymentDir, 'versions'));
    expect(builds).toHaveLength(1);
    expect((await readFile(path.join(deploymentDir, 'versions', builds[0] ?? '', 'app', 'niceness.txt'), 'utf8')).trim()).toBe('19');

    await expect(deployer.prepare({ deploymentId, url: repo, branch: 'main', commit: prepared.commit.slice(0, 7) })).resolves.toEqual({ deploymentId, commit: prepared.commit, alreadyKept: true });

    // the deployment moves here
    const hostPort = await freePort();
    const events: DeployProgress[] = [];
    const moved = await deployer.deploy({ deploymentId, url: repo, branch: 'main', commit: prepared.commit, fromKept: true, hostPort, env: { GREETING: 'failover' }, onProgress: (event) => events.push(event) });

    expect(moved).toMatchObject({ commit: prepared.commit, fromKept: true, state: 'running', hostPort });
    expect(events.filter((event) => event.kind === 'start').map((event) => event.step)).toEqual(['manifest', 'run', 'ready']);
    // the installed dependency is the build's
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'hello failover' });

    // while it runs here, its builds are its deploys' to keep
    await expect(deployer.prepare({ deploymentId, url: repo, branch: 'main', commit: prepared.commit })).rejects.toMatchObject({ code: 'CONFLICT', deploymentId });
    await expect(deployer.forgetKept(deploymentId)).rejects.toMatchObject({ code: 'CONFLICT', deploymentId });
    await deployer.stop(deploymentId);
  });

  it('keeps a failover build across an agent restart, and forgetKept frees it', async () => {
    const { dir, dataDir } = setup;
    const repo = await nodeAppRepo(repoPath(dir.path, 'app'));
    const deploymentId = uniqueName('fof').replace(/\./g, '-');
    const prepared = await setup.deployer.prepare({ deploymentId, url: repo, branch: 'main', commit: await headOf(repo) });

    const restarted = await setup.restart();
    expect(await restarted.keptCommits(deploymentId)).toEqual([prepared.commit]);

    await restarted.forgetKept(deploymentId);
    expect(await restarted.keptCommits(deploymentId)).toEqual([]);
    await expect(readdir(path.join(dataDir, 'deployments', deploymentId))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails clearly on a repository it cannot reach and leaves nothing behind', async () => {
    const { dir, dataDir, deployer } = setup;
    const deploymentId = uniqueName('fox').replace(/\./g, '-');

    const failure = deployer.prepare({ deploymentId, url: path.join(dir.path, 'no-such-repo'), branch: 'main', commit: 'abcdef1' });

    await expect(failure).rejects.toMatchObject({ deploymentId, details: expect.objectContaining({ step: 'clone' }) as unknown });
    await expect(failure).rejects.toThrow(/no-such-repo/);
    expect(await deployer.keptCommits(deploymentId)).toEqual([]);
    expect(await readdir(path.join(dataDir, 'deployments'))).toEqual([]);
  });

  it('fails clearly when the install fails and leaves nothing behind', async () => {
    const { dir, dataDir, deployer } = setup;
    const broken = { 'package.json': JSON.stringify({ name: 'hello-node', version: '1.0.0', private: true, dependencies: { greet: 'file:greet' }, scripts: { postinstall: 'echo kraken failover install breaks here; exit 3' } }) };
    const repo = await nodeAppRepo(repoPath(dir.path, 'app'), { extra: broken });
    const deploymentId = uniqueName('fob').replace(/\./g, '-');

    const failure = deployer.prepare({ deploymentId, url: repo, branch: 'main', commit: await headOf(repo) });

    await expect(failure).rejects.toMatchObject({ deploymentId, details: expect.objectContaining({ step: 'build' }) as unknown });
    await expect(failure).rejects.toThrow(/npm install .*exit code 3[\s\S]*kraken failover install breaks here/);
    expect(await deployer.keptCommits(deploymentId)).toEqual([]);
    expect(await readdir(path.join(dataDir, 'deployments'))).toEqual([]);
  });
});

async function headOf(repo: string): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
}
