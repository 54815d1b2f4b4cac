// Apps people bring listen where their code says (`app.listen(7211)`, the port in their manifest),
// not on $PORT. Without a container there is no port mapping: the runtime finds the port the app's
// processes listen on and makes it the app's port, and a fixed port held by someone else is an
// error that names the holder. The fixed port is chosen free when the test starts (7211 may be in
// use on a machine running another Kraken), then written into the app's code as a literal.
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { commitFiles, fixedPortAppFiles, freePort, gitFixtureRepo, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { deployRejection, get, repoPath } from '../test/fixtures.js';
import { ProcessDeployer } from './index.js';

function deploymentId(): string {
  return uniqueName('fixed').replace(/\./g, '-');
}

describe('ProcessDeployer runs apps that listen on a port fixed in their code', () => {
  let dir: TempDir;
  let deployer: ProcessDeployer;
  const deployed: string[] = [];

  beforeAll(async () => {
    dir = await tempDir('kraken-fixed-port-');
    deployer = await ProcessDeployer.create({ dataDir: path.join(dir.path, 'data'), nodeId: 'node-fixed', readyTimeout: '20s', stopTimeout: '3s' });
  });

  afterAll(async () => {
    for (const id of deployed) await deployer.stop(id).catch(() => undefined);
    await deployer.close();
    await dir.remove();
  });

  it('finds the port the app listens on instead of $PORT, serves there, redeploys a new commit and stops', async () => {
    const fixed = await freePort();
    const repo = await gitFixtureRepo(repoPath(dir.path, 'fixed'), fixedPortAppFiles(fixed, 'first'));
    const id = deploymentId();
    deployed.push(id);
    const given = await freePort();

    const first = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort: given });
    expect(first).toMatchObject({ state: 'running', hostPort: fixed, port: fixed });
    await expect(get(fixed)).resolves.toMatchObject({ status: 200, body: 'hello from first' });
    await expect(deployer.list()).resolves.toEqual([expect.objectContaining({ deploymentId: id, hostPort: fixed })]);

    // a redeploy asks for the port the app reported, as the orchestrator does
    const second = await commitFiles(repo, fixedPortAppFiles(fixed, 'second'), 'the next version');
    const redeployed = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort: fixed, replace: true });
    expect(redeployed).toMatchObject({ commit: second, hostPort: fixed, reused: false });
    await expect(get(fixed)).resolves.toMatchObject({ status: 200, body: 'hello from second' });

    await deployer.stop(id);
    await expect(get(fixed)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('stops a version that holds the port its successor needs only once the successor is built, and runs it again when the successor fails to start', async () => {
    const fixed = await freePort();
    const repo = await gitFixtureRepo(repoPath(dir.path, 'fixed-fails'), fixedPortAppFiles(fixed, 'first'));
    const id = deploymentId();
    deployed.push(id);
    const first = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main' });
    expect(first).toMatchObject({ hostPort: fixed });

    // the same fixed port in its manifest, so it cannot start beside the first; it dies as it starts
    const files = fixedPortAppFiles(fixed, 'second');
    await commitFiles(repo, { ...files, 'server.js': "console.error('cannot start'); process.exit(5);\n" }, 'a version that cannot start');
    const error = await deployRejection(deployer, { deploymentId: id, url: repo, branch: 'main', hostPort: fixed, replace: true });
    expect(error).toMatchObject({ deploymentId: id, details: { step: 'ready', exitCode: 5 } });

    // the first version runs again, as a new process, on its port
    await expect(get(fixed)).resolves.toMatchObject({ status: 200, body: 'hello from first' });
    const listed = await deployer.list();
    expect(listed).toEqual([expect.objectContaining({ deploymentId: id, commit: first.commit, hostPort: fixed, state: 'running' })]);
    expect(listed[0]?.instanceId).not.toBe(first.instanceId);
    await deployer.stop(id);
  });

  it('fails with a Conflict naming the process that holds the fixed port', async () => {
    const blocker = createServer().listen(0, '0.0.0.0');
    await once(blocker, 'listening');
    const taken = (blocker.address() as { port: number }).port;
    try {
      const repo = await gitFixtureRepo(repoPath(dir.path, 'blocked'), fixedPortAppFiles(taken, 'blocked'));
      const id = deploymentId();
      deployed.push(id);
      const error = await deployRejection(deployer, { deploymentId: id, url: repo, branch: 'main', hostPort: await freePort() });
      expect(error).toMatchObject({ code: ErrorCode.Conflict, deploymentId: id, details: { step: 'ready', port: taken } });
      expect(error.message).toContain(`port ${taken}, which its manifest names, is taken on this node by process ${process.pid} (`);
      expect(error.message).toMatch(/^app exited with code 1 before answering on port \d+: /);
      // the app's own words stay in the message
      expect(error.message).toMatch(/EADDRINUSE/);
      await expect(deployer.list()).resolves.not.toContainEqual(expect.objectContaining({ deploymentId: id }));
    } finally {
      blocker.close();
    }
  });

  it('fails with a Conflict naming the deployment whose app holds the fixed port', async () => {
    const fixed = await freePort();
    const holder = deploymentId();
    deployed.push(holder);
    await deployer.deploy({ deploymentId: holder, url: await gitFixtureRepo(repoPath(dir.path, 'holder'), fixedPortAppFiles(fixed, 'holder', 'port-holder')), branch: 'main' });

    const id = deploymentId();
    deployed.push(id);
    const repo = await gitFixtureRepo(repoPath(dir.path, 'latecomer'), fixedPortAppFiles(fixed, 'latecomer'));
    const error = await deployRejection(deployer, { deploymentId: id, url: repo, branch: 'main' });
    expect(error).toMatchObject({ code: ErrorCode.Conflict, details: { port: fixed, heldBy: `deployment ${holder} (app port-holder)` } });
    // the holder serves on
    await expect(get(fixed)).resolves.toMatchObject({ status: 200, body: 'hello from holder' });
    await deployer.stop(holder);
  });
});
