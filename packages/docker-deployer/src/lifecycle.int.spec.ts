import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { appAnswer, commitFiles, freePort, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { cleanupNode, containersOf, docker, gitRepo, manifest, templatesDir } from '../test/fixtures.js';
import { DockerDeployer } from './deployer.js';

// Several helpers build on the same two cores: generous limits, and no assertion on how long anything takes.
const DEPLOY_TIMEOUT_MS = 300_000;

const nodeId = uniqueName('lifecycle-it');
let work: TempDir;
let deployer: DockerDeployer;

beforeAll(async () => {
  work = await tempDir('kraken-deployer-lifecycle-');
  deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(work.path, 'work'), templatesDir, readyTimeout: '60s', stopTimeout: '2s' });
});

afterAll(async () => {
  try {
    await cleanupNode(nodeId);
  } finally {
    await work.remove();
  }
});

/** A node app without dependencies that answers every request with its version. */
function appSource(version: string): string {
  return `
const http = require('node:http');
const server = http.createServer((req, res) => res.end(${JSON.stringify(version)})).listen(Number(process.env.PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;
}

describe('DockerDeployer stops and starts a deployment without a build', () => {
  it(
    'keeps the container, image and port across stop, start and restart, serving the image it built',
    async () => {
      const repo = await gitRepo(path.join(work.path, 'repo'), { 'shipwreck.toml': manifest('lang = "node"\nport = 3000\nrun = "node server.js"'), 'server.js': appSource('v1') });
      const deploymentId = uniqueName('life');
      const hostPort = await freePort();
      const deployed = await deployer.deploy({ deploymentId, url: repo, branch: 'main', hostPort });
      expect(await appAnswer(hostPort)).toBe('v1');

      await deployer.stopApp(deploymentId);
      expect(await appAnswer(hostPort)).toBeUndefined();
      const [stopped] = await containersOf(nodeId, deploymentId);
      expect(stopped).toMatchObject({ Id: deployed.instanceId, State: 'exited' });
      expect(await deployer.list()).toMatchObject([{ deploymentId, instanceId: deployed.instanceId, state: 'exited' }]);
      // stopping a stopped one changes nothing
      await deployer.stopApp(deploymentId);

      // a newer commit must not be what a start runs: there is no clone and no build
      await commitFiles(repo, { 'server.js': appSource('v2') }, 'v2');
      const started = await deployer.startApp(deploymentId);
      expect(started).toMatchObject({ deploymentId, instanceId: deployed.instanceId, artifact: deployed.artifact, commit: deployed.commit, hostPort, state: 'running' });
      expect(await appAnswer(hostPort)).toBe('v1');

      // restart: stop, then start, in place
      const before = await docker.getContainer(deployed.instanceId).inspect();
      await deployer.stopApp(deploymentId);
      const restarted = await deployer.startApp(deploymentId);
      expect(restarted).toMatchObject({ instanceId: deployed.instanceId, hostPort, state: 'running' });
      const after = await docker.getContainer(deployed.instanceId).inspect();
      expect(after.State.StartedAt).not.toBe(before.State.StartedAt);
      expect(after.Image).toBe(before.Image);
      expect(await appAnswer(hostPort)).toBe('v1');
    },
    DEPLOY_TIMEOUT_MS,
  );

  it('says NotFound for a deployment this node has no container for', async () => {
    await expect(deployer.stopApp('nobody-here')).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(deployer.startApp('nobody-here')).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });
});
