// An app's code can listen on another port than its manifest names (`app.listen(7211)` under
// `port = 3000`). Inside a container the port is the app's alone, so Kraken publishes the port the
// app listens on, found in the container's socket table, rather than failing the ready check.
import path from 'node:path';
import { MemoryLogger } from '@kraken/common';
import { freePort, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { Label } from './labels.js';
import { cleanupNode, containersOf, docker, gitRepo, httpGet, manifest, templatesDir } from '../test/fixtures.js';
import { DockerDeployer } from './deployer.js';

const nodeId = uniqueName('listen-it');
let work: TempDir;
let deployer: DockerDeployer;
let logger: MemoryLogger;

beforeAll(async () => {
  work = await tempDir('kraken-deployer-listen-');
  logger = new MemoryLogger();
  deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(work.path, 'work'), templatesDir, logger, readyTimeout: '60s' });
});

afterAll(async () => {
  await cleanupNode(nodeId);
  await work.remove();
});

describe('DockerDeployer publishes the port the app listens on (real engine)', () => {
  it('maps the host port to the port fixed in the code when it is not the manifest\'s, and finds it again by its label', async () => {
    const deploymentId = `fixed-${Math.random().toString(36).slice(2, 8)}`;
    const repo = await gitRepo(path.join(work.path, deploymentId), {
      'shipwreck.toml': manifest('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = ""', 'fixed-in-code'),
      'server.js': "require('node:http').createServer((req, res) => res.end('fixed at 7211')).listen(7211);\n",
    });
    const hostPort = await freePort();
    const result = await deployer.deploy({ deploymentId, url: repo, branch: 'main', hostPort });

    expect(result).toMatchObject({ state: 'running', port: 7211, hostPort });
    await expect(httpGet(hostPort)).resolves.toEqual({ status: 200, body: 'fixed at 7211' });
    const [container, ...others] = await containersOf(nodeId, deploymentId);
    expect(others).toEqual([]);
    expect(container?.Labels[Label.Port]).toBe('7211');
    expect(container?.Ports).toContainEqual(expect.objectContaining({ PrivatePort: 7211, PublicPort: hostPort }));
    await expect(deployer.list()).resolves.toContainEqual(expect.objectContaining({ deploymentId, port: 7211, hostPort }));
    expect(logger.records).toContainEqual(
      expect.objectContaining({ message: "the app listens on another port than its manifest's; publishing that one instead", fields: expect.objectContaining({ manifestPort: 3000, listensOn: 7211 }) as unknown }),
    );

    await deployer.stop(deploymentId);
    expect(await containersOf(nodeId, deploymentId)).toEqual([]);
  }, 300_000);
});
