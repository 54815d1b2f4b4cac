import { execFileSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { commitFiles, eventually, freePort, gitFixtureRepo, manifestToml, uniqueName } from '@kraken/testing';
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
  const setup = deployerPerTest('kraken-replace-', { nodeId: 'node-replace', readyTimeout: '30s', stopTimeout: '3s', pollInterval: '200ms', drainTime: '300ms' });

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

  it('starts the new commit beside the running version on a port of its own, reports that port, and stops the old one after its drain; a later deploy without replace reuses it', async () => {
    const { dataDir, deployer } = setup;
    const { repo, id, hostPort, leaderPid, serverPid } = await deployV1();
    const v2Commit = await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');

    // the port the deployment reported, as the orchestrator sends it, is where it runs now: not one the new version must take
    const v2 = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort, replace: true });
    expect(v2).toMatchObject({ deploymentId: id, reused: false, commit: v2Commit, state: 'running' });
    const v2Port = v2.hostPort ?? 0;
    expect(v2Port).not.toBe(hostPort);
    expect(v2.instanceId).not.toBe(String(leaderPid));
    await expect(get(v2Port)).resolves.toMatchObject({ status: 200, body: 'v2' });
    const v2ServerPid = await servingPid(v2Port);
    expect(v2ServerPid).not.toBe(serverPid);
    await eventually(() => !processAlive(leaderPid) && !processAlive(serverPid), 10_000, 'the old version stopping after its drain');
    await expect(get(hostPort)).rejects.toThrow(/ECONNREFUSED/);

    const listed = (await deployer.list()).filter((deployment) => deployment.deploymentId === id);
    expect(listed).toEqual([expect.objectContaining({ instanceId: v2.instanceId, commit: v2Commit, hostPort: v2Port, state: 'running' })]);
    const state = JSON.parse(await readFile(path.join(dataDir, 'deployments', id, 'state.json'), 'utf8')) as { pid: number; commit: string };
    expect(state).toMatchObject({ pid: Number(v2.instanceId), commit: v2Commit });

    const again = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort: v2Port });
    expect(again).toMatchObject({ deploymentId: id, reused: true, instanceId: v2.instanceId, commit: v2Commit, hostPort: v2Port });
    await expect(servingPid(v2Port)).resolves.toBe(v2ServerPid);
    expect(await deployer.list()).toHaveLength(1);

    await deployer.stop(id);
    expect(processAlive(Number(v2.instanceId))).toBe(false);
    expect(processAlive(v2ServerPid)).toBe(false);
  });

  it('restarts the commit it runs with a changed env from the build it has, beside the old process: no clone, install or test, the app folder kept', async () => {
    const { dir, dataDir, deployer } = setup;
    const repo = await gitFixtureRepo(repoPath(dir.path, 'env-app'), {
      'shipwreck.toml': manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "true"', 'env-app'),
      'server.js': `require('node:http').createServer((q, s) => s.end('hello ' + process.env.GREETING)).listen(Number(process.env.PORT));`,
    });
    const id = deploymentId();
    const hostPort = await freePort();
    const first = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort, env: { GREETING: 'one' } });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'hello one' });
    // a fresh deploy makes a new build folder: this file is found only by a restart from the build
    const { cwd } = JSON.parse(await readFile(path.join(dataDir, 'deployments', id, 'state.json'), 'utf8')) as { cwd: string };
    const marker = path.join(cwd, 'built-marker');
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
    expect(second).toMatchObject({ reused: false, buildReused: true, commit: first.commit, state: 'running' });
    expect(events.filter((event) => event.kind === 'start').map((event) => event.step)).toEqual(['manifest', 'run', 'ready']);
    await expect(readFile(marker, 'utf8')).resolves.toBe('kept');
    await expect(get(second.hostPort ?? 0)).resolves.toMatchObject({ status: 200, body: 'hello two' });
    await eventually(() => !processAlive(Number(first.instanceId)), 10_000, 'the old process stopping after its drain');
    // the build stays: the new process runs from it
    await expect(readFile(marker, 'utf8')).resolves.toBe('kept');
  });

  it('deploys the requested commit, not the branch head (a rollback)', async () => {
    const { deployer } = setup;
    const { repo, id, hostPort } = await deployV1();
    const v1Commit = headOf(repo);
    await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');
    await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort, replace: true });
    const back = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', commit: v1Commit, replace: true });
    expect(back).toMatchObject({ reused: false, commit: v1Commit });
    await expect(get(back.hostPort ?? 0)).resolves.toMatchObject({ status: 200, body: 'v1' });
  });

  // the new version builds in a folder of its own while the old one runs: a failure leaves the old one as it was
  it.each<FailingCommit>([
    {
      step: 'manifest',
      files: { 'shipwreck.toml': '[app\nname = "broken"\n' },
      code: ErrorCode.InvalidManifest,
      message: /^shipwreck\.toml:1:\d+: invalid TOML/,
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
    'a replace whose new commit fails at the $step step rejects naming that step, and the version before serves on, untouched',
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

      // the same processes serve on; nothing of the failed build is left
      expect(processAlive(leaderPid)).toBe(true);
      await expect(servingPid(hostPort)).resolves.toBe(serverPid);
      await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v1' });
      await expect(deployer.list()).resolves.toMatchObject([{ deploymentId: id, instanceId: String(leaderPid), state: 'running', commit: v1Commit, hostPort }]);
      expect(await readdir(path.join(dataDir, 'deployments', id, 'versions'))).toHaveLength(1);
      expect(await deployer.keptCommits(id)).toEqual([v1Commit]);
    },
  );
});
