import { readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { gitFixtureRepo, manifestToml, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { deployRejection, nodeAppRepo, pythonAppRepo, repoPath, scriptAppRepo } from '../test/fixtures.js';
import { ProcessDeployer } from './index.js';

function deploymentId(): string {
  return uniqueName('err').replace(/\./g, '-');
}

describe('ProcessDeployer explains what went wrong', () => {
  let dir: TempDir;
  let dataDir: string;
  let deployer: ProcessDeployer;

  beforeAll(async () => {
    dir = await tempDir('kraken-process-errors-');
    dataDir = path.join(dir.path, 'data');
    deployer = await ProcessDeployer.create({ dataDir, nodeId: 'node-err', readyTimeout: '3s', stopTimeout: '2s' });
  });

  afterAll(async () => {
    for (const deployment of await deployer.list()) await deployer.stop(deployment.deploymentId).catch(() => undefined);
    await deployer.close();
    await dir.remove();
  });

  async function expectNothingLeft(id: string): Promise<void> {
    await expect(deployer.list()).resolves.toEqual([]);
    expect(await readdir(path.join(dataDir, 'deployments'))).not.toContain(id);
  }

  it('reports an app that exits at once with its exit code and last output lines', async () => {
    const repo = await scriptAppRepo(repoPath(dir.path, 'exits'), "console.log('starting');\nconsole.error('DATABASE_URL is not set');\nprocess.exit(3);\n");
    const id = deploymentId();
    const error = await deployRejection(deployer, { deploymentId: id, url: repo, branch: 'main' });
    expect(error.code).toBe(ErrorCode.Internal);
    expect(error.deploymentId).toBe(id);
    expect(error.details).toMatchObject({ step: 'ready', exitCode: 3 });
    expect(error.message).toMatch(/^app exited with code 3 before answering on port \d+/);
    expect(error.message).toContain('last stderr lines:\n  DATABASE_URL is not set');
    expect(error.message).toContain('last stdout lines:\n  starting');
    await expectNothingLeft(id);
  });

  it('reports an app that never listens on its port, naming $PORT', async () => {
    const repo = await scriptAppRepo(repoPath(dir.path, 'silent'), "console.log('working, not listening');\nsetInterval(() => {}, 1000);\n");
    const id = deploymentId();
    const error = await deployRejection(deployer, { deploymentId: id, url: repo, branch: 'main' });
    expect(error.code).toBe(ErrorCode.Timeout);
    expect(error.details).toMatchObject({ step: 'ready' });
    expect(error.message).toMatch(/^app did not answer HTTP on port (\d+) within 3 s \(GET \/: connect ECONNREFUSED 127\.0\.0\.1:\d+\); it listens on no TCP port\. The app should listen on the port in \$PORT \(\d+\) or on the manifest's port/);
    expect(error.message).toContain('working, not listening');
    await expectNothingLeft(id);
  });

  it('fails the deploy when the test command fails, with its output', async () => {
    const repo = await nodeAppRepo(repoPath(dir.path, 'failing-test'), {
      test: 'node test.js',
      extra: { 'test.js': "console.log('1 passing');\nconsole.error('AssertionError: expected 2 to equal 3');\nprocess.exit(1);\n" },
    });
    const id = deploymentId();
    const error = await deployRejection(deployer, { deploymentId: id, url: repo, branch: 'main' });
    expect(error.details).toMatchObject({ step: 'test', exitCode: 1 });
    expect(error.message).toMatch(/^the test command \(node test\.js\) failed with exit code 1/);
    expect(error.message).toContain('AssertionError: expected 2 to equal 3');
    await expectNothingLeft(id);
  });

  it('refuses lang custom, which needs a Docker engine', async () => {
    const repo = await gitFixtureRepo(repoPath(dir.path, 'custom'), {
      'shipwreck.toml': manifestToml('lang = "custom"\nport = 8080', 'custom-app'),
      Dockerfile: 'FROM scratch\n',
    });
    const id = deploymentId();
    const error = await deployRejection(deployer, { deploymentId: id, url: repo, branch: 'main' });
    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(error.message).toMatch(/^lang custom needs a Docker engine \(none answered\)/);
    expect(error.details).toMatchObject({ step: 'build', lang: 'custom' });
    await expectNothingLeft(id);
  });

  it('says so when requirements.txt needs pip and the python has none', async () => {
    // python -S leaves site-packages, and so pip, off the path
    const noPip = path.join(dir.path, 'python-without-pip');
    await writeFile(noPip, '#!/bin/sh\nexec python3 -S "$@"\n', { mode: 0o755 });
    await using pipless = await ProcessDeployer.create({ dataDir: path.join(dir.path, 'pipless'), nodeId: 'node-err', python: noPip });
    const repo = await pythonAppRepo(repoPath(dir.path, 'needs-pip'), 'requests==2.31.0\n');
    const error = await deployRejection(pipless, { deploymentId: deploymentId(), url: repo, branch: 'main' });
    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(error.details).toMatchObject({ step: 'build' });
    expect(error.message).toMatch(/^requirements\.txt lists packages but pip is not available on this node/);
    expect(error.message).toContain('No module named pip');
  });

  it('refuses a host port that is already taken, before cloning, naming what holds it', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const repo = await nodeAppRepo(repoPath(dir.path, 'port-taken'));
      const error = await deployRejection(deployer, { deploymentId: deploymentId(), url: repo, branch: 'main', hostPort: port });
      expect(error.code).toBe(ErrorCode.Conflict);
      // the holder here is this test's own process
      const holder = `process ${String(process.pid)} (`;
      expect(error.message).toMatch(new RegExp(`^host port ${String(port)} is already in use on this node by process ${String(process.pid)} \\(.*node.*\\); choose another port or stop it$`));
      expect(error.details).toMatchObject({ hostPort: port, step: 'run', heldBy: expect.stringContaining(holder) as unknown });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('rejects bad requests and unknown deployments with clear errors', async () => {
    await expect(deployer.deploy({ deploymentId: '../etc', url: '/nowhere', branch: 'main' })).rejects.toMatchObject({
      code: ErrorCode.InvalidInput,
      details: { field: 'deploymentId' },
    });
    await expect(deployer.deploy({ deploymentId: deploymentId(), url: '/nowhere', branch: 'main', hostPort: 70_000 })).rejects.toMatchObject({
      code: ErrorCode.InvalidInput,
      details: { field: 'hostPort' },
    });
    const missing = await deployRejection(deployer, { deploymentId: deploymentId(), url: path.join(dir.path, 'no-such-repo'), branch: 'main' });
    expect(missing.details).toMatchObject({ step: 'clone', field: 'url' });
    for (const call of [() => deployer.stop('ghost'), () => deployer.stats('ghost'), () => deployer.followLogs('ghost', () => undefined)]) {
      await expect(call()).rejects.toMatchObject({ code: ErrorCode.NotFound, deploymentId: 'ghost', message: expect.stringMatching(/runs no process for it/) as unknown });
    }
    await expect(deployer.ping()).resolves.toBeUndefined();
    expect(deployer.runtime).toBe('process');
  });
});
