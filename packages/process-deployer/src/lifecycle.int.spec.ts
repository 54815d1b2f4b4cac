import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { commitFiles, freePort, gitFixtureRepo, manifestToml, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { get, repoPath } from '../test/fixtures.js';
import { ProcessDeployer } from './index.js';

/** A node app with no dependencies that says which version it is and which pid serves. */
function versionedServer(version: string): string {
  return `
const http = require('node:http');
const server = http.createServer((request, response) => {
  response.end(request.url === '/pid' ? String(process.pid) : ${JSON.stringify(version)});
});
server.listen(Number(process.env.PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;
}

async function answers(port: number): Promise<string | undefined> {
  try {
    return (await get(port)).body;
  } catch {
    return undefined;
  }
}

describe('ProcessDeployer stops and starts a deployment without a build', () => {
  let dir: TempDir;
  let dataDir: string;
  let deployer: ProcessDeployer;
  const options = { nodeId: 'node-lifecycle', readyTimeout: '30s', stopTimeout: '3s', pollInterval: '200ms' };

  beforeEach(async () => {
    dir = await tempDir('kraken-lifecycle-');
    dataDir = path.join(dir.path, 'data');
    deployer = await ProcessDeployer.create({ ...options, dataDir });
  });

  afterEach(async () => {
    await deployer.close();
    const cleaner = await ProcessDeployer.create({ ...options, dataDir });
    try {
      for (const deployment of await cleaner.list()) await cleaner.stop(deployment.deploymentId).catch(() => undefined);
    } finally {
      await cleaner.close();
      await dir.remove();
    }
  });

  it('keeps the built folder and port across stop, an agent restart, start and restart, serving the version it built', async () => {
    const repo = await gitFixtureRepo(repoPath(dir.path, 'app'), {
      'shipwreck.toml': manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"', 'lifecycle-app'),
      'server.js': versionedServer('v1'),
    });
    const id = uniqueName('life').replace(/\./g, '-');
    const hostPort = await freePort();
    const deployed = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v1' });
    const folder = path.join(dataDir, 'deployments', id);
    const built = await stat(path.join(folder, 'app', 'server.js'));

    await deployer.stopApp(id);
    expect(await answers(hostPort)).toBeUndefined();
    expect(JSON.parse(await readFile(path.join(folder, 'state.json'), 'utf8'))).toMatchObject({ phase: 'stopped', hostPort });
    expect(await deployer.list()).toMatchObject([{ deploymentId: id, state: 'exited', hostPort }]);
    // stopping it again changes nothing
    await deployer.stopApp(id);

    // a newer commit must not be what a start runs: there is no clone and no build
    await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');
    // an agent restart finds it stopped and leaves it so
    await deployer.close();
    deployer = await ProcessDeployer.create({ ...options, dataDir });
    expect(await deployer.list()).toMatchObject([{ deploymentId: id, state: 'exited' }]);
    expect(await answers(hostPort)).toBeUndefined();

    const started = await deployer.startApp(id);
    expect(started).toMatchObject({ deploymentId: id, state: 'running', hostPort, commit: deployed.commit });
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v1' });
    expect((await stat(path.join(folder, 'app', 'server.js'))).mtimeMs).toBe(built.mtimeMs);
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
    await expect(deployer.stopApp('nobody-here')).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(deployer.startApp('nobody-here')).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });
});
