// An app container the kernel ends at its memory limit: Docker's die event says only 137, so the
// deployer pairs it with the engine's oom event and names the limit, as the process runtime does.
import path from 'node:path';
import { eventually, freePort, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { AppRunEvent } from '@kraken/runtime';
import { cleanupNode, docker, gitRepo, httpGet, manifest, templatesDir } from '../test/fixtures.js';
import { DockerDeployer } from './deployer.js';

/** Answers HTTP; GET /hog keeps allocating memory it touches, until something ends it. */
const HOG = `
const http = require('node:http');
const held = [];
http.createServer((req, res) => {
  if (req.url === '/hog') setInterval(() => { for (let i = 0; i < 8; i++) held.push(Buffer.alloc(1 << 20, 1)); }, 10);
  res.end('ok');
}).listen(Number(process.env.PORT));
`;

const nodeId = uniqueName('memory-limit-it');
let work: TempDir;
let deployer: DockerDeployer;

beforeAll(async () => {
  work = await tempDir('kraken-deployer-memory-');
  deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(work.path, 'work'), templatesDir, readyTimeout: '60s', stopTimeout: '2s' });
});

afterAll(async () => {
  try {
    await cleanupNode(nodeId);
  } finally {
    await work.remove();
  }
});

it('reports an app the kernel ended at its memory limit with that cause', async () => {
  const repo = await gitRepo(path.join(work.path, 'repo'), {
    'shipwreck.toml': manifest('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = ""\nmemory = "64m"', 'hog-app'),
    'server.js': HOG,
  });
  const runs: AppRunEvent[] = [];
  const watcher = await deployer.watchRuns((event) => runs.push(event));
  try {
    const deployed = await deployer.deploy({ deploymentId: uniqueName('hog').replace(/\./g, '-'), url: repo, branch: 'main', hostPort: await freePort() });
    await expect(httpGet(deployed.hostPort ?? 0, '/hog')).resolves.toMatchObject({ status: 200 });
    const exit = await eventually(() => runs.find((event) => event.kind === 'exit'), 60_000, 'the container ended by the kernel');
    expect(exit).toMatchObject({ kind: 'exit', deploymentId: deployed.deploymentId, code: 137, cause: 'it went past its memory limit of 64 MB' });
  } finally {
    watcher.stop();
  }
}, 300_000);
