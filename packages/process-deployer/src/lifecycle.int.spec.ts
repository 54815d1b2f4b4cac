import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { appAnswer, commitFiles, freePort, gitFixtureRepo, manifestToml, uniqueName } from '@kraken/testing';
import { deployerPerTest } from '../test/deployer-per-test.js';
import { get, repoPath, versionedServer } from '../test/fixtures.js';

describe('ProcessDeployer stops and starts a deployment without a build', () => {
  const options = { nodeId: 'node-lifecycle', readyTimeout: '30s', stopTimeout: '3s', pollInterval: '200ms' };
  const setup = deployerPerTest('kraken-lifecycle-', options);

  it('keeps the built folder and port across stop, an agent restart, start and restart, serving the version it built', async () => {
    const { dir, dataDir } = setup;
    let { deployer } = setup;
    const repo = await gitFixtureRepo(repoPath(dir.path, 'app'), {
      'shipwreck.toml': manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"', 'lifecycle-app'),
      'server.js': versionedServer('v1'),
    });
    const id = uniqueName('life').replace(/\./g, '-');
    const hostPort = await freePort();
    const deployed = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v1' });
    const folder = path.join(dataDir, 'deployments', id);
    const { cwd } = JSON.parse(await readFile(path.join(folder, 'state.json'), 'utf8')) as { cwd: string };
    const built = await stat(path.join(cwd, 'server.js'));

    await deployer.stopApp(id);
    expect(await appAnswer(hostPort)).toBeUndefined();
    expect(JSON.parse(await readFile(path.join(folder, 'state.json'), 'utf8'))).toMatchObject({ phase: 'stopped', hostPort });
    expect(await deployer.list()).toMatchObject([{ deploymentId: id, state: 'exited', hostPort }]);
    // stopping it again changes nothing
    await deployer.stopApp(id);

    // a newer commit must not be what a start runs: there is no clone and no build
    await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');
    // an agent restart finds it stopped and leaves it so
    deployer = await setup.restart();
    expect(await deployer.list()).toMatchObject([{ deploymentId: id, state: 'exited' }]);
    expect(await appAnswer(hostPort)).toBeUndefined();

    const started = await deployer.startApp(id);
    expect(started).toMatchObject({ deploymentId: id, state: 'running', hostPort, commit: deployed.commit });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v1' });
    expect((await stat(path.join(cwd, 'server.js'))).mtimeMs).toBe(built.mtimeMs);
    const firstPid = (await get(hostPort, '/pid')).body;

    // restart: stop, then start, in place
    await deployer.stopApp(id);
    const restarted = await deployer.startApp(id);
    expect(restarted).toMatchObject({ state: 'running', hostPort });
    const secondPid = (await get(hostPort, '/pid')).body;
    expect(secondPid).not.toBe(firstPid);
    await expect(get(hostPort)).resolves.toMatchObject({ body: 'v1' });
  });

  it('says NotFound for a deployment it does not hold', async () => {
    const { deployer } = setup;
    await expect(deployer.stopApp('nobody-here')).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(deployer.startApp('nobody-here')).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });
});
