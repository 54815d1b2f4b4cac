import { access, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { eventually, freePort, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { DeployProgress, LogLine } from '@kraken/runtime';
import { get, nodeAppRepo, processAlive, pythonAppRepo, repoPath, staticSiteRepo, writeGreetingWheel } from '../test/fixtures.js';
import { ProcessDeployer } from './index.js';

function deploymentId(): string {
  return uniqueName('proc').replace(/\./g, '-');
}

describe('ProcessDeployer deploys apps as processes', () => {
  let dir: TempDir;
  let deployer: ProcessDeployer;
  const deployed: string[] = [];

  beforeAll(async () => {
    dir = await tempDir('kraken-process-');
    deployer = await ProcessDeployer.create({ dataDir: path.join(dir.path, 'data'), nodeId: 'node-test', readyTimeout: '30s', stopTimeout: '3s' });
  });

  afterAll(async () => {
    for (const id of deployed) await deployer.stop(id).catch(() => undefined);
    await deployer.close();
    await dir.remove();
  });

  it('deploys a node app with its dependencies and test, serves HTTP on the host port, then stops it', async () => {
    const repo = await nodeAppRepo(repoPath(dir.path, 'node-app'), { test: 'node -e "require(\'greet\'); console.log(\'tests pass\')"' });
    const id = deploymentId();
    deployed.push(id);
    const hostPort = await freePort();
    const events: DeployProgress[] = [];
    const result = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort, env: { GREETING: 'from the request' }, onProgress: (event) => events.push(event) });

    expect(result).toMatchObject({ deploymentId: id, appName: 'hello-node', state: 'running', hostPort, reused: false, artifact: 'process:node' });
    expect(result.commit).toMatch(/^[0-9a-f]{40}$/);
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'hello from the request' });

    const started = events.filter((event) => event.kind === 'start').map((event) => event.step);
    expect(started).toEqual(['clone', 'manifest', 'build', 'test', 'run', 'ready']);
    const lines = events.flatMap((event) => (event.kind === 'line' ? [`${event.step}/${event.stream}: ${event.text}`] : []));
    expect(lines).toContain('build/build: $ npm install --no-audit --no-fund --no-update-notifier');
    expect(lines).toContain('test/test: tests pass');
    expect(events.every((event) => event.kind !== 'finish' || event.ok)).toBe(true);

    const listed = await deployer.list();
    expect(listed).toEqual([expect.objectContaining({ deploymentId: id, state: 'running', hostPort, instanceId: result.instanceId })]);

    const pid = Number(result.instanceId);
    expect(processAlive(pid)).toBe(true);
    await deployer.stop(id);
    expect(processAlive(pid)).toBe(false);
    await expect(get(hostPort)).rejects.toThrow(/ECONNREFUSED/);
    await expect(access(path.join(dir.path, 'data', 'deployments', id))).rejects.toThrow(/ENOENT/);
    await expect(deployer.list()).resolves.toEqual([]);
    await expect(deployer.stop(id)).rejects.toMatchObject({ code: ErrorCode.NotFound, deploymentId: id });
  });

  it('picks a free host port when none is requested, and reuses a deployment that already runs', async () => {
    const repo = await nodeAppRepo(repoPath(dir.path, 'node-any-port'));
    const id = deploymentId();
    deployed.push(id);
    const first = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main' });
    expect(first.hostPort).toBeGreaterThan(0);
    await expect(get(first.hostPort!)).resolves.toMatchObject({ status: 200, body: 'hello from the manifest' });
    const again = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main' });
    expect(again).toMatchObject({ reused: true, instanceId: first.instanceId, hostPort: first.hostPort });
    await deployer.stop(id);
  });

  it('streams the app output with stdout and stderr told apart, from the deploy on', async () => {
    const repo = await nodeAppRepo(repoPath(dir.path, 'node-logs'));
    const id = deploymentId();
    deployed.push(id);
    const since = new Date();
    const result = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main' });
    const lines: LogLine[] = [];
    const follower = await deployer.followLogs(id, (line) => lines.push(line), { since });
    await get(result.hostPort!, '/logged');
    await eventually(() => (lines.some((line) => line.text === 'request /logged') ? true : undefined), 10_000, 'the request log line');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ stream: 'stderr', text: 'warming up' }),
        expect.objectContaining({ stream: 'stdout', text: `listening on ${result.hostPort}` }),
        expect.objectContaining({ stream: 'stdout', text: 'request /logged' }),
      ]),
    );
    expect(lines.every((line) => line.at instanceof Date)).toBe(true);

    // a follow from now on sees only what comes next
    const later: LogLine[] = [];
    const second = await deployer.followLogs(id, (line) => later.push(line));
    await get(result.hostPort!, '/later');
    await eventually(() => (later.some((line) => line.text === 'request /later') ? true : undefined), 10_000, 'the second request line');
    expect(later.map((line) => line.text)).not.toContain('warming up');

    // stopping the deployment ends every follow
    await deployer.stop(id);
    await follower.done;
    await second.done;
  });

  it('reports CPU, memory and folder size of a running app from /proc', async () => {
    const repo = await nodeAppRepo(repoPath(dir.path, 'node-stats'));
    const id = deploymentId();
    deployed.push(id);
    await deployer.deploy({ deploymentId: id, url: repo, branch: 'main' });
    // what every runtime reports (and NotFound once stopped) is the deployerContract's; these are the process runtime's own readings
    const sample = await deployer.stats(id);
    expect(sample.memMb).toBeGreaterThan(5);
    // no limit is enforced on processes: the limit reads 0 ("no limit"), not the app's own use
    expect(sample.maxMemMb).toBe(0);
    expect(sample.imageSizeMb).toBeGreaterThan(0);
    await deployer.stop(id);
  });

  it('deploys a python app that serves with http.server', async () => {
    const repo = await pythonAppRepo(repoPath(dir.path, 'python-app'));
    const id = deploymentId();
    deployed.push(id);
    const result = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main' });
    expect(result).toMatchObject({ appName: 'hello-python', artifact: 'process:python3', state: 'running' });
    await expect(get(result.hostPort!)).resolves.toMatchObject({ status: 200, body: 'hi python' });
    await deployer.stop(id);
  });

  it('installs requirements.txt with pip into the deployment and puts them on PYTHONPATH', async () => {
    const root = repoPath(dir.path, 'python-deps');
    await mkdir(root, { recursive: true });
    const wheel = writeGreetingWheel(root);
    const repo = await pythonAppRepo(root, `# local wheel, no package index needed\n./${wheel}\n`);
    const id = deploymentId();
    deployed.push(id);
    const closedIndex = `http://127.0.0.1:${await freePort()}/simple`;
    const events: DeployProgress[] = [];
    const result = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', env: { PIP_INDEX_URL: closedIndex }, onProgress: (event) => events.push(event) });
    await expect(get(result.hostPort!)).resolves.toMatchObject({ status: 200, body: 'hello python via a wheel' });
    expect(events.some((event) => event.kind === 'line' && event.step === 'build' && /Successfully installed greeting-1\.0/.test(event.text))).toBe(true);
    await deployer.stop(id);
  });

  it('serves a static site from its root folder with the built-in file server', async () => {
    const repo = await staticSiteRepo(repoPath(dir.path, 'static-site'));
    const id = deploymentId();
    deployed.push(id);
    const result = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main' });
    expect(result).toMatchObject({ appName: 'hello-static', artifact: 'process:static' });
    const port = result.hostPort!;
    await expect(get(port)).resolves.toMatchObject({ status: 200, body: '<!doctype html><h1>static hello</h1>\n', contentType: 'text/html; charset=utf-8' });
    await expect(get(port, '/css/app.css')).resolves.toMatchObject({ status: 200, contentType: 'text/css; charset=utf-8' });
    await expect(get(port, '/missing.html')).resolves.toMatchObject({ status: 404 });
    await expect(get(port, '/../README.md')).resolves.toMatchObject({ status: 404 });
    await expect(get(port, '/%2e%2e/README.md')).resolves.toMatchObject({ status: 404 });
    const logged = await readFile(path.join(dir.path, 'data', 'deployments', id, 'stdout.log'), 'utf8');
    expect(logged).toContain('GET /css/app.css 200');
    await deployer.stop(id);
  });
});
