import { execFileSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { commitFiles, freePort, gitFixtureRepo, manifestToml, uniqueName } from '@kraken/testing';
import type { DeployProgress } from '@kraken/runtime';
import { deployerPerTest } from '../test/deployer-per-test.js';
import { deployRejection, get, processAlive, repoPath, versionedServer } from '../test/fixtures.js';

function deploymentId(): string {
  return uniqueName('rep').replace(/\./g, '-');
}

const APP_MANIFEST = manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"', 'replace-me');

function headOf(repo: string): string {
  return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
}

async function servingPid(port: number): Promise<number> {
  const answer = await get(port, '/pid');
  expect(answer.status).toBe(200);
  return Number(answer.body);
}

interface FailingCommit {
  step: string;
  files: Record<string, string>;
  code: ErrorCode;
  message: RegExp;
}

describe('ProcessDeployer redeploys with replace: true', () => {
  const setup = deployerPerTest('kraken-replace-', { nodeId: 'node-replace', readyTimeout: '30s', stopTimeout: '3s', pollInterval: '200ms' });

  async function deployV1(): Promise<{ repo: string; id: string; hostPort: number; leaderPid: number; serverPid: number }> {
    const { dir, dataDir, deployer } = setup;
    const repo = await gitFixtureRepo(repoPath(dir.path, 'app'), { 'shipwreck.toml': APP_MANIFEST, 'server.js': versionedServer('v1') });
    const id = deploymentId();
    const hostPort = await freePort();
    const v1 = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort });
    expect(v1).toMatchObject({ deploymentId: id, reused: false, commit: headOf(repo), hostPort, state: 'running' });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v1' });
    const state = JSON.parse(await readFile(path.join(dataDir, 'deployments', id, 'state.json'), 'utf8')) as { pid: number };
    // the group leader (the shell running the run command) is what the result and the state file name
    const leaderPid = Number(v1.instanceId);
    expect(state.pid).toBe(leaderPid);
    const serverPid = await servingPid(hostPort);
    expect(processAlive(leaderPid)).toBe(true);
    expect(processAlive(serverPid)).toBe(true);
    return { repo, id, hostPort, leaderPid, serverPid };
  }

  it('stops the running version and serves the new commit on the same port; a later deploy without replace reuses it', async () => {
    const { dataDir, deployer } = setup;
    const { repo, id, hostPort, leaderPid, serverPid } = await deployV1();
    const v2Commit = await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');

    const v2 = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort, replace: true });
    expect(v2).toMatchObject({ deploymentId: id, reused: false, commit: v2Commit, hostPort, state: 'running' });
    expect(v2.instanceId).not.toBe(String(leaderPid));
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v2' });
    const v2ServerPid = await servingPid(hostPort);
    expect(v2ServerPid).not.toBe(serverPid);
    expect(processAlive(leaderPid)).toBe(false);
    expect(processAlive(serverPid)).toBe(false);

    const listed = (await deployer.list()).filter((deployment) => deployment.deploymentId === id);
    expect(listed).toEqual([expect.objectContaining({ instanceId: v2.instanceId, commit: v2Commit, hostPort, state: 'running' })]);
    const state = JSON.parse(await readFile(path.join(dataDir, 'deployments', id, 'state.json'), 'utf8')) as { pid: number; commit: string };
    expect(state).toMatchObject({ pid: Number(v2.instanceId), commit: v2Commit });

    const again = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort });
    expect(again).toMatchObject({ deploymentId: id, reused: true, instanceId: v2.instanceId, commit: v2Commit, hostPort });
    await expect(servingPid(hostPort)).resolves.toBe(v2ServerPid);
    expect(await deployer.list()).toHaveLength(1);

    await deployer.stop(id);
    expect(processAlive(Number(v2.instanceId))).toBe(false);
    expect(processAlive(v2ServerPid)).toBe(false);
  });

  it('restarts the commit it runs with a changed env from the build it has: no clone, install or test, the app folder kept', async () => {
    const { dir, dataDir, deployer } = setup;
    const repo = await gitFixtureRepo(repoPath(dir.path, 'env-app'), {
      'shipwreck.toml': manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "true"', 'env-app'),
      'server.js': `require('node:http').createServer((q, s) => s.end('hello ' + process.env.GREETING)).listen(Number(process.env.PORT));`,
    });
    const id = deploymentId();
    const hostPort = await freePort();
    const first = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort, env: { GREETING: 'one' } });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'hello one' });
    // a fresh deploy empties the deployment's folder: this file outlives only a restart from the build
    const marker = path.join(dataDir, 'deployments', id, 'app', 'built-marker');
    await writeFile(marker, 'kept');

    const events: DeployProgress[] = [];
    const second = await deployer.deploy({
      deploymentId: id,
      url: repo,
      branch: 'main',
      hostPort,
      commit: first.commit,
      env: { GREETING: 'two' },
      replace: true,
      onProgress: (event) => events.push(event),
    });
    expect(second).toMatchObject({ reused: false, buildReused: true, commit: first.commit, hostPort, state: 'running' });
    expect(events.filter((event) => event.kind === 'start').map((event) => event.step)).toEqual(['manifest', 'run', 'ready']);
    await expect(readFile(marker, 'utf8')).resolves.toBe('kept');
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'hello two' });
    expect(processAlive(Number(first.instanceId))).toBe(false);
  });

  it('deploys the requested commit, not the branch head (a rollback)', async () => {
    const { deployer } = setup;
    const { repo, id, hostPort } = await deployV1();
    const v1Commit = headOf(repo);
    await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');
    const back = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort, commit: v1Commit, replace: true });
    expect(back).toMatchObject({ reused: false, commit: v1Commit });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v1' });
  });

  // Unlike the Docker runtime, which builds beside the old container, the process runtime rebuilds
  // the app's folder in place and so must stop the old version first: a failed replace starts it
  // again from its kept build.
  it.each<FailingCommit>([
    {
      step: 'manifest',
      files: { 'shipwreck.toml': '[app\nname = "broken"\n' },
      code: ErrorCode.InvalidManifest,
      message: /^shipwreck\.toml:1:5: invalid TOML/,
    },
    {
      step: 'build',
      files: {
        'package.json': JSON.stringify({ name: 'replace-me', version: '2.0.0', private: true, dependencies: { missing: 'file:./missing-1.0.0.tgz' } }),
        'server.js': versionedServer('v2'),
      },
      code: ErrorCode.Internal,
      message: /^npm install --no-audit --no-fund --no-update-notifier --omit=dev failed with exit code \d+\nlast output lines:\n.*ENOENT/s,
    },
    {
      step: 'test',
      files: { 'shipwreck.toml': manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "exit 4"', 'replace-me'), 'server.js': versionedServer('v2') },
      code: ErrorCode.Internal,
      message: /^the test command \(exit 4\) failed with exit code 4/,
    },
  ])(
    'a replace whose new commit fails at the $step step rejects naming that step, and the version before runs again on its port from its kept build',
    async ({ step, files, code, message }) => {
      const { dataDir, deployer } = setup;
      const { repo, id, hostPort, leaderPid, serverPid } = await deployV1();
      const v1Commit = headOf(repo);
      await commitFiles(repo, files, `v2 that fails at ${step}`);

      const error = await deployRejection(deployer, { deploymentId: id, url: repo, branch: 'main', hostPort, replace: true });
      expect(error.deploymentId).toBe(id);
      expect(error.code).toBe(code);
      expect(error.details).toMatchObject({ step });
      expect(error.message).toMatch(message);

      // the old processes were stopped for the build; v1 runs again, as new processes
      expect(processAlive(leaderPid)).toBe(false);
      expect(processAlive(serverPid)).toBe(false);
      await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v1' });
      expect(await servingPid(hostPort)).not.toBe(serverPid);
      await expect(deployer.list()).resolves.toMatchObject([{ deploymentId: id, state: 'running', commit: v1Commit, hostPort }]);
      // nothing of the failed build is left: v1's build is back in place, and kept for a rollback
      expect(await readdir(path.join(dataDir, 'deployments', id, 'kept'))).toEqual([]);
      expect(await deployer.keptCommits(id)).toEqual([v1Commit]);
    },
  );
});
