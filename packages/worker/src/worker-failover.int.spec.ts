import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { AmqpBroker } from '@kraken/broker';
import { MemoryLogger } from '@kraken/common';
import { DockerDeployer, Label } from '@kraken/docker-deployer';
import { MessageType, createMessage } from '@kraken/messages';
import { amqpUrl, deleteQueues, eventuallyPasses, orchestratorEnd, requireRabbit, tempDir, uniqueName } from '@kraken/testing';
import type { OrchestratorEnd, TempDir } from '@kraken/testing';
import { fixtureRepo, manifest } from '../test/fixture-repo.js';
import { Worker } from './worker.js';

const url = amqpUrl();
const docker = new Docker({ socketPath: process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock' });
const templatesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dockerfiles');
const nodeId = uniqueName('worker-fo-it');
const queues = { orchestrator: uniqueName('worker-fo-it.orchestrator'), telemetry: uniqueName('worker-fo-it.telemetry'), node: uniqueName('worker-fo-it.node') };
const deploymentId = `fo-${Math.random().toString(36).slice(2, 8)}`;

let work: TempDir;
let workerBroker: AmqpBroker;
let orchestratorBroker: AmqpBroker;
let worker: Worker | undefined;
let end: OrchestratorEnd;

beforeAll(async () => {
  await requireRabbit(url);
  await docker.ping();
  work = await tempDir('kraken-worker-fo-it-');
  workerBroker = await AmqpBroker.create({ url });
  orchestratorBroker = await AmqpBroker.create({ url });
  end = await orchestratorEnd(orchestratorBroker, queues);
});

afterAll(async () => {
  // everything is attempted even when a step fails, so a failed run leaves nothing behind
  const steps: (() => Promise<unknown>)[] = [
    async () => worker?.stop(),
    () => end.stop(),
    () => workerBroker.close(),
    () => orchestratorBroker.close(),
    async () => {
      const containers = await docker.listContainers({ all: true, filters: { label: [`${Label.Node}=${nodeId}`] } });
      await Promise.all(containers.map((info) => docker.getContainer(info.Id).remove({ force: true })));
      const images = await docker.listImages({ filters: { label: [`${Label.Node}=${nodeId}`] } });
      for (const image of images) await docker.getImage(image.Id).remove({ force: true });
    },
    () => deleteQueues(url, Object.values(queues)),
    () => work.remove(),
  ];
  for (const step of steps) await step().catch((error: unknown) => { console.warn('cleanup step failed', error); });
});

describe('Worker failover builds with RabbitMQ and the Docker engine', () => {
  it('builds a deployment ahead on deploy.prepare, reports it ready in node.info, and runs it with no build when the deployment moves here', async () => {
    worker = await Worker.create({
      broker: workerBroker,
      deployer: new DockerDeployer({ docker, nodeId, workDir: path.join(work.path, 'work'), templatesDir, logger: new MemoryLogger(), readyTimeout: '60s' }),
      engine: docker,
      nodeId,
      logger: new MemoryLogger(),
      options: { queues, heartbeatInterval: '300ms', statsInterval: '1h' },
    });
    const repo = await fixtureRepo(path.join(work.path, 'repo'), {
      'shipwreck.toml': manifest('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "true"'),
      'server.js': `require('node:http').createServer((req, res) => res.end('built ahead')).listen(Number(process.env.PORT));\n`,
    });
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const send = (type: typeof MessageType.DeployPrepare | typeof MessageType.DeployRequest, body: Record<string, unknown>) =>
      orchestratorBroker.publish(queues.node, createMessage(type, body as never, { from: 'it-orchestrator', epoch: 1 }));

    await send(MessageType.DeployPrepare, { deploymentId, srcUrl: repo, branch: 'main', commit });
    await eventuallyPasses(() => { expect(end.heartbeats.at(-1)?.failoverBuilds).toEqual([{ deploymentId, commit, state: 'ready' }]); }, 110_000, 50);
    // a build, not a deployment: nothing runs and nothing is reported as deployed
    expect(end.heartbeats.at(-1)?.deployments).toEqual([]);
    expect(end.statuses).toEqual([]);

    await send(MessageType.DeployRequest, { deploymentId, srcUrl: repo, branch: 'main', commit, fromKept: true });
    await eventuallyPasses(() => { expect(end.statuses.at(-1)?.status).toMatch(/Running|Errored/); }, 60_000, 50);
    expect(end.statuses.map((status) => status.status)).toEqual(['ValidatingDeploymentData', 'Deploying', 'Running']);
    expect(end.statuses.at(-1)?.message).toBe(`running the kept build of ${commit.slice(0, 7)}; nothing was rebuilt`);
    expect(await (await fetch(`http://127.0.0.1:${end.statuses.at(-1)?.port ?? 0}/`)).text()).toBe('built ahead');
    await eventuallyPasses(() => {
      expect(end.heartbeats.at(-1)?.failoverBuilds).toEqual([]);
      expect(end.heartbeats.at(-1)?.deployments).toEqual([deploymentId]);
    }, 10_000, 50);
  });
});
