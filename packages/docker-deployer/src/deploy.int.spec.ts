import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { MemoryLogger } from '@kraken/common';
import { tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { cleanupNode, containersOf, docker, gitRepo, httpGet, manifest, nodeServer, pythonServer, templatesDir } from '../test/fixtures.js';
import { DockerDeployer } from './deployer.js';
import type { DeployProgress } from './progress.js';

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
});
