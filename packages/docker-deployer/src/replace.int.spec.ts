import net from 'node:net';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, KrakenError } from '@kraken/common';
import { appAnswer, commitFiles, freePort, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { DeployProgress, DeployResult, DeployStep } from '@kraken/runtime';
import { cleanupNode, containersOf, docker, gitRepo, httpGet, manifest, templatesDir } from '../test/fixtures.js';
import { DockerDeployer } from './deployer.js';

// Several helpers build on the same two cores: generous limits, and no assertion on how long anything takes.
const DEPLOY_TIMEOUT_MS = 300_000;

const nodeId = uniqueName('replace-it');
let work: TempDir;
let deployer: DockerDeployer;
/** Image ids the builds printed: the untagged images a build leaves (its context stage, the last step of a failed build) carry no node label. */
const builtImageIds = new Set<string>();

beforeAll(async () => {
  work = await tempDir('kraken-deployer-replace-');
  deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(work.path, 'work'), templatesDir, readyTimeout: '60s' });
});

afterAll(async () => {
  try {
    await cleanupNode(nodeId);
    await removeUntaggedBuildImages();
  } finally {
    await work.remove();
  }
});

/**
 * Removes the untagged images this file's builds printed. Their content (a unique checkout) is no
 * one else's build cache; removal is never forced, so an image that another one builds on stays.
 */
async function removeUntaggedBuildImages(): Promise<void> {
  for (const id of builtImageIds) {
    try {
      const image = await docker.getImage(id).inspect();
      if (image.RepoTags.every((tag) => tag === '<none>:<none>')) await docker.getImage(id).remove();
    } catch {
      // gone already, or the parent of another image
    }
  }
}

/** Notes the image ids in a build's output (the legacy builder's ` ---> <id>` lines) for the cleanup. */
function collectImageIds(event: DeployProgress): void {
  if (event.kind !== 'line' || event.stream !== 'build') return;
  const match = /^\s*---> ([0-9a-f]{12,64})\s*$/.exec(event.text);
  if (match?.[1] !== undefined) builtImageIds.add(match[1]);
}

/** A node app without dependencies that answers every request with its version. */
function appSource(version: string): string {
  return `
const http = require('node:http');
http.createServer((req, res) => res.end(${JSON.stringify(version)})).listen(Number(process.env.PORT));
`;
}

const appManifest = manifest('lang = "node"\nport = 3000\nrun = "node server.js"');
// a test step that takes a while: the old app must keep answering through it, after the new image took the tag
const v2Manifest = manifest('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "sleep 2"');

interface RunningV1 {
  deploymentId: string;
  repo: string;
  hostPort: number;
  v1: string;
  first: DeployResult;
}

/** Deploys v1 of the app on a fixed free host port and checks it answers. */
async function deployV1(prefix: string): Promise<RunningV1> {
  const deploymentId = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  const v1 = `v1 of ${deploymentId}`;
  const repo = await gitRepo(path.join(work.path, deploymentId), { 'shipwreck.toml': appManifest, 'server.js': appSource(v1) });
  const hostPort = await freePort();
  const first = await deployer.deploy({ deploymentId, url: repo, branch: 'main', hostPort, onProgress: collectImageIds });
  expect(first).toMatchObject({ reused: false, hostPort, state: 'running' });
  expect((await httpGet(hostPort)).body).toBe(v1);
  return { deploymentId, repo, hostPort, v1, first };
}

/** One poll of the app's port, with the deploy step that had last started when the answer came back. */
interface Answer {
  step: DeployStep | undefined;
  /** Undefined: nothing answered. */
  body: string | undefined;
}

/**
 * Polls a port from the moment the deploy starts building until stopped, tagging every answer with
 * the step that had started when it arrived: an answer tagged build or test arrived before the
 * run step began, so before the deployer touched the old container.
 */
function portPoller(hostPort: number): { onProgress: (event: DeployProgress) => void; stop: () => Promise<Answer[]> } {
  const answers: Answer[] = [];
  let step: DeployStep | undefined;
  let stopped = false;
  let loop: Promise<void> | undefined;
  const poll = async (): Promise<void> => {
    while (!stopped) {
      const body = await appAnswer(hostPort);
      answers.push({ step, body });
      await sleep(50);
    }
  };
  return {
    onProgress: (event) => {
      collectImageIds(event);
      if (event.kind !== 'start') return;
      step = event.step;
      if ((event.step === 'build' || event.step === 'test') && loop === undefined) loop = poll();
    },
    stop: async () => {
      stopped = true;
      await loop;
      return answers;
    },
  };
}

describe('DockerDeployer.deploy with replace (real engine)', () => {
  it(
    'keeps the old version answering while the new one builds and tests, then serves the new one on the same port',
    async () => {
      const { deploymentId, repo, hostPort, v1, first } = await deployV1('swap');
      const v2 = `v2 of ${deploymentId}`;
      const v2Commit = await commitFiles(repo, { 'shipwreck.toml': v2Manifest, 'server.js': appSource(v2) }, 'v2');

      const poller = portPoller(hostPort);
      const events: DeployProgress[] = [];
      let result: DeployResult;
      let answers: Answer[] = [];
      try {
        result = await deployer.deploy({
          deploymentId,
          url: repo,
          branch: 'main',
          hostPort,
          replace: true,
          onProgress: (event) => {
            events.push(event);
            poller.onProgress(event);
          },
        });
      } finally {
        answers = await poller.stop();
      }

      const beforeRun = answers.filter((answer) => answer.step === 'build' || answer.step === 'test');
      // every answer that arrived before the run step came from the old app, during the build and the test
      expect(new Set(beforeRun.map((answer) => answer.step))).toEqual(new Set(['build', 'test']));
      expect(beforeRun).toEqual(beforeRun.map((answer) => ({ step: answer.step, body: v1 })));

      expect(result).toMatchObject({ reused: false, commit: v2Commit, hostPort, instanceName: first.instanceName, state: 'running' });
      expect(result.instanceId).not.toBe(first.instanceId);
      expect((await httpGet(hostPort)).body).toBe(v2);

      const starts = events.filter((event) => event.kind === 'start').map((event) => event.step);
      expect(starts).toEqual(['clone', 'manifest', 'build', 'test', 'run', 'ready']);

      const containers = await containersOf(nodeId, deploymentId);
      expect(containers.map((info) => ({ id: info.Id, role: info.Labels['org.kraken.role'], commit: info.Labels['org.kraken.commit'], state: info.State }))).toEqual([
        { id: result.instanceId, role: 'app', commit: v2Commit, state: 'running' },
      ]);
      await expect(docker.getContainer(first.instanceId).inspect()).rejects.toMatchObject({ statusCode: 404 });
    },
    DEPLOY_TIMEOUT_MS,
  );

  const breaks: { name: string; step: DeployStep; code: ErrorCode; files: (version: string) => Record<string, string> }[] = [
    {
      name: 'an invalid shipwreck.toml',
      step: 'manifest',
      code: ErrorCode.InvalidManifest,
      files: (version) => ({ 'shipwreck.toml': '[app\nname = "broken"\n', 'server.js': appSource(version) }),
    },
    {
      name: 'a package.json that does not parse (the image build fails)',
      step: 'build',
      code: ErrorCode.Internal,
      files: (version) => ({ 'shipwreck.toml': appManifest, 'server.js': appSource(version), 'package.json': '{ "name": "broken", \n' }),
    },
    {
      name: 'a failing test command (after the new image took the tag)',
      step: 'test',
      code: ErrorCode.Internal,
      files: (version) => ({ 'shipwreck.toml': manifest('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "exit 3"'), 'server.js': appSource(version) }),
    },
  ];

  it.each(breaks)(
    'rejects a replace with $name in the $step step and leaves the old version running and answering',
    async ({ step, code, files }) => {
      const { deploymentId, repo, hostPort, v1, first } = await deployV1(`broken-${step}`);
      const broken = files(`broken of ${deploymentId}`);
      await commitFiles(repo, broken, `break the ${step} step`);

      const events: DeployProgress[] = [];
      let caught: unknown;
      try {
        await deployer.deploy({
          deploymentId,
          url: repo,
          branch: 'main',
          hostPort,
          replace: true,
          onProgress: (event) => {
            events.push(event);
            collectImageIds(event);
          },
        });
      } catch (error) {
        caught = error;
      }

      expect(caught).toBeInstanceOf(KrakenError);
      const error = caught as KrakenError;
      expect(error).toMatchObject({ code, deploymentId });
      expect(error.details).toMatchObject({ step });
      expect(events.some((event) => event.kind === 'start' && (event.step === 'run' || event.step === 'ready'))).toBe(false);

      const containers = await containersOf(nodeId, deploymentId);
      expect(containers.map((info) => ({ id: info.Id, commit: info.Labels['org.kraken.commit'], state: info.State }))).toEqual([
        { id: first.instanceId, commit: first.commit, state: 'running' },
      ]);
      expect((await httpGet(hostPort)).body).toBe(v1);
      // the failed checkout is not left behind either
      expect(await readdir(path.join(work.path, 'work', 'builds'))).toEqual([]);
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    'keeps the app\'s host port when a replace names none, and refuses a taken other port before touching the running app',
    async () => {
      const { deploymentId, repo, hostPort, first } = await deployV1('port');
      const v2 = `v2 of ${deploymentId}`;
      await commitFiles(repo, { 'server.js': appSource(v2) }, 'v2');
      const kept = await deployer.deploy({ deploymentId, url: repo, branch: 'main', replace: true, onProgress: collectImageIds });
      expect(kept).toMatchObject({ reused: false, hostPort });
      expect((await httpGet(hostPort)).body).toBe(v2);

      // another port that something else holds: refused up front, the running version untouched
      const blocker = net.createServer();
      const takenPort = await freePort();
      await new Promise<void>((resolve) => blocker.listen(takenPort, '0.0.0.0', resolve));
      try {
        await expect(deployer.deploy({ deploymentId, url: repo, branch: 'main', hostPort: takenPort, replace: true })).rejects.toMatchObject({
          code: ErrorCode.Conflict,
        });
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
      expect(await containersOf(nodeId, deploymentId)).toEqual([expect.objectContaining({ Id: kept.instanceId })]);
      expect((await httpGet(hostPort)).body).toBe(v2);
      expect(first.instanceId).not.toBe(kept.instanceId);
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    'reuses the running container without building when the same id is deployed again without replace',
    async () => {
      const { deploymentId, repo, hostPort, v1, first } = await deployV1('reuse');
      // a newer commit on the branch does not matter: without replace the running deployment is reported as is
      await commitFiles(repo, { 'server.js': appSource(`v2 of ${deploymentId}`) }, 'v2');

      const events: DeployProgress[] = [];
      const again = await deployer.deploy({ deploymentId, url: repo, branch: 'main', hostPort, onProgress: (event) => events.push(event) });

      expect(again).toMatchObject({ reused: true, instanceId: first.instanceId, commit: first.commit, hostPort, state: 'running' });
      expect(events).toEqual([]);
      expect(await containersOf(nodeId, deploymentId)).toHaveLength(1);
      expect((await httpGet(hostPort)).body).toBe(v1);
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    'restarts the commit it runs with a changed env from the same image, leaving only the new container',
    async () => {
      // that no step but run and ready runs, and the app sees the new value, is the deployerContract's
      const deploymentId = `env-${Math.random().toString(36).slice(2, 8)}`;
      const repo = await gitRepo(path.join(work.path, deploymentId), {
        'shipwreck.toml': manifest('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "true"'),
        'server.js': `require('node:http').createServer((q, s) => s.end('hello ' + process.env.GREETING)).listen(Number(process.env.PORT));`,
      });
      const request = { deploymentId, url: repo, branch: 'main', hostPort: await freePort() };
      const first = await deployer.deploy({ ...request, env: { GREETING: 'one' }, onProgress: collectImageIds });
      const firstImage = (await docker.getContainer(first.instanceId).inspect()).Image;
      const second = await deployer.deploy({ ...request, commit: first.commit, env: { GREETING: 'two' }, replace: true });

      expect(second.instanceId).not.toBe(first.instanceId);
      expect((await docker.getContainer(second.instanceId).inspect()).Image).toBe(firstImage);
      expect((await containersOf(nodeId, deploymentId)).map((info) => info.Id)).toEqual([second.instanceId]);
    },
    DEPLOY_TIMEOUT_MS,
  );
});
