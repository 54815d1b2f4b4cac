import { execFileSync } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MemoryLogger } from '@kraken/common';
import { tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { DeployProgress } from '@kraken/runtime';
import { cleanupNode, containersOf, docker, gitRepo, httpGet, manifest, nodeServer, pythonServer, templatesDir } from '../test/fixtures.js';
import { DockerDeployer } from './deployer.js';

const nodeId = uniqueName('deploy-it');
let work: TempDir;
let deployer: DockerDeployer;

beforeAll(async () => {
  work = await tempDir('kraken-deployer-it-');
  deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(work.path, 'work'), templatesDir, logger: new MemoryLogger(), readyTimeout: '60s' });
});

afterAll(async () => {
  await cleanupNode(nodeId);
  await work.remove();
});

function id(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

async function deployAndCheck(files: Record<string, string>, expectedBody: string): Promise<void> {
  const deploymentId = id('app');
  const repo = await gitRepo(path.join(work.path, deploymentId), files);
  const events: DeployProgress[] = [];
  const result = await deployer.deploy({ deploymentId, url: repo, branch: 'main', onProgress: (event) => events.push(event) });

  expect(result.hostPort).toBeGreaterThan(0);
  const response = await httpGet(result.hostPort ?? 0);
  expect(response.status).toBe(200);
  expect(response.body).toContain(expectedBody);
  expect(result.commit).toMatch(/^[0-9a-f]{40}$/);
  const finished = events.filter((event) => event.kind === 'finish').map((event) => event.step);
  expect(finished).toEqual(expect.arrayContaining(['clone', 'manifest', 'build', 'run', 'ready']));
  expect(events.some((event) => event.kind === 'line' && event.stream === 'build')).toBe(true);
  // the checkout is build input only
  expect(await readdir(path.join(work.path, 'work', 'builds'))).toEqual([]);

  await deployer.stop(deploymentId);
  expect(await containersOf(nodeId, deploymentId)).toEqual([]);
}

describe('DockerDeployer.deploy (real engine)', () => {
  it('deploys a node app without dependencies and serves HTTP 200, then stop removes its container', async () => {
    await deployAndCheck(
      {
        'shipwreck.toml': manifest('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "node -e \\"process.exit(0)\\""\n\n[config.env]\nGREETING = "manifest"'),
        'server.js': nodeServer,
      },
      'hello from node manifest',
    );
  });

  it('deploys a python http.server app', async () => {
    await deployAndCheck({ 'shipwreck.toml': manifest('lang = "python3"\nport = 8000\nrun = "python3 app.py"'), 'app.py': pythonServer }, 'hello from python');
  });

  it('deploys a static site from its root folder', async () => {
    await deployAndCheck(
      { 'shipwreck.toml': manifest('lang = "static"\nroot = "public"'), 'public/index.html': '<h1>hello from static</h1>\n' },
      'hello from static',
    );
  });

  it("deploys a custom app from the repository's own Dockerfile", async () => {
    await deployAndCheck(
      {
        'shipwreck.toml': manifest('lang = "custom"\nport = 8080'),
        Dockerfile: 'FROM kraken-base/node:20\nWORKDIR /app\nCOPY server.js .\nCMD ["node", "server.js"]\n',
        'server.js': nodeServer.replace("'hello from node '", "'hello from custom '"),
      },
      'hello from custom',
    );
  });

  it('runs the container with the request limits over the manifest ones', async () => {
    const deploymentId = id('limits');
    const repo = await gitRepo(path.join(work.path, deploymentId), {
      'shipwreck.toml': manifest('lang = "node"\nport = 3000\nrun = "node server.js"\nmemory = "512m"\ncpus = 1'),
      'server.js': nodeServer,
    });
    const result = await deployer.deploy({ deploymentId, url: repo, branch: 'main', limits: { memoryMb: 96, cpus: 0.5 } });

    const info = await docker.getContainer(result.instanceId).inspect();
    expect(info.HostConfig.Memory).toBe(96 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(0.5e9);
    expect((await httpGet(result.hostPort ?? 0)).status).toBe(200);
    await deployer.stop(deploymentId);
  });

  it('deploys an older commit of the branch, and a second deployment of it builds from cache alone', async () => {
    const deploymentId = id('older');
    const repo = await gitRepo(path.join(work.path, deploymentId), {
      'shipwreck.toml': manifest('lang = "node"\nport = 3000\nrun = "node server.js"\n\n[config.env]\nGREETING = "first"'),
      'server.js': nodeServer,
    });
    const git = (...args: string[]): string =>
      execFileSync('git', ['-c', 'user.name=Kraken Test', '-c', 'user.email=test@kraken.invalid', ...args], { cwd: repo, encoding: 'utf8' }).trim();
    const older = git('rev-parse', 'HEAD');
    await writeFile(path.join(repo, 'shipwreck.toml'), manifest('lang = "node"\nport = 3000\nrun = "node server.js"\n\n[config.env]\nGREETING = "second"'));
    git('commit', '--quiet', '--all', '--message', 'second');

    const result = await deployer.deploy({ deploymentId, url: `file://${repo}`, branch: 'main', commit: older.slice(0, 8) });
    expect(result.commit).toBe(older);
    expect((await httpGet(result.hostPort ?? 0)).body).toBe('hello from node first');
    const image = await docker.getImage(result.artifact).inspect();
    expect(image.Config.Labels).toMatchObject({ 'org.kraken.node': nodeId, 'org.kraken.app': 'fixture-app', 'org.kraken.commit': older });

    // the image carries no per-deployment label, so the same commit under another id reuses every layer
    const again = id('older-again');
    const lines: string[] = [];
    const second = await deployer.deploy({
      deploymentId: again,
      url: `file://${repo}`,
      branch: 'main',
      commit: older,
      onProgress: (event) => {
        if (event.kind === 'line' && event.stream === 'build') lines.push(event.text);
      },
    });
    expect(second.commit).toBe(older);
    expect(lines.filter((line) => line.includes('Running in'))).toEqual([]);
    expect(lines.filter((line) => line.includes('Using cache')).length).toBeGreaterThan(0);
    await deployer.stop(deploymentId);
    await deployer.stop(again);
  });

  it('close() removes the test container of a deploy in flight, so no test outlives the agent', async () => {
    const deploymentId = id('closing');
    const repo = await gitRepo(path.join(work.path, deploymentId), {
      'shipwreck.toml': manifest('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "sleep 600"'),
      'server.js': nodeServer,
    });
    let testing!: () => void;
    const testStarted = new Promise<void>((resolve) => {
      testing = resolve;
    });
    const deploying = deployer.deploy({
      deploymentId,
      url: repo,
      branch: 'main',
      onProgress: (event) => {
        if (event.kind === 'start' && event.step === 'test') testing();
      },
    });
    await testStarted;
    const testContainers = () => docker.listContainers({ all: true, filters: { label: [`org.kraken.node=${nodeId}`, `org.kraken.deployment=${deploymentId}`, 'org.kraken.role=test'] } });
    for (let tries = 0; (await testContainers()).length === 0; tries++) {
      if (tries > 100) throw new Error('the test container never appeared');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await deployer.close();
    await expect(deploying).rejects.toMatchObject({ deploymentId });
    expect(await containersOf(nodeId, deploymentId)).toEqual([]);
  });
});
