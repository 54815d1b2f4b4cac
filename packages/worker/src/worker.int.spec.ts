import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { AmqpBroker } from '@kraken/broker';
import { MemoryLogger } from '@kraken/common';
import { DockerDeployer, Label } from '@kraken/docker-deployer';
import { MessageType, createMessage } from '@kraken/messages';
import { amqpUrl, deleteQueues, eventuallyPasses, orchestratorEnd, requireRabbit, tempDir, uniqueName } from '@kraken/testing';
import type { OrchestratorEnd, TempDir } from '@kraken/testing';
import { chattyNodeApp, fixtureRepo, manifest } from '../test/fixture-repo.js';
import { Worker } from './worker.js';

const url = amqpUrl();
const docker = new Docker({ socketPath: process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock' });
// the repository's dockerfiles/: the templates' source of truth, so no copy step is needed
const templatesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dockerfiles');
const nodeId = uniqueName('worker-it');
const queues = { orchestrator: uniqueName('worker-it.orchestrator'), telemetry: uniqueName('worker-it.telemetry'), node: uniqueName('worker-it.node') };
const deploymentId = `app-${Math.random().toString(36).slice(2, 8)}`;
const BOOT_LINES = 3000;

let work: TempDir;
let workerBroker: AmqpBroker;
let orchestratorBroker: AmqpBroker;
const workers: Worker[] = [];
let end: OrchestratorEnd;
const timings: Record<string, number> = {};

function newDeployer(): DockerDeployer {
  return new DockerDeployer({ docker, nodeId, workDir: path.join(work.path, 'work'), templatesDir, logger: new MemoryLogger(), readyTimeout: '60s' });
}

async function startWorker(): Promise<Worker> {
  const worker = await Worker.create({
    broker: workerBroker,
    deployer: newDeployer(),
    engine: docker,
    nodeId,
    logger: new MemoryLogger(),
    options: { queues, heartbeatInterval: '500ms', statsInterval: '1s' },
  });
  workers.push(worker);
  return worker;
}

async function command(type: typeof MessageType.DeployRequest | typeof MessageType.DeployCancel, body: Record<string, unknown>): Promise<void> {
  await orchestratorBroker.publish(queues.node, createMessage(type, body as never, { from: 'it-orchestrator', epoch: 1 }));
}

const statusesOf = (id: string): string[] => end.statuses.filter((status) => status.deploymentId === id).map((status) => status.status);
const appContainers = (): Promise<Docker.ContainerInfo[]> =>
  docker.listContainers({ all: true, filters: { label: [`${Label.Node}=${nodeId}`, `${Label.Deployment}=${deploymentId}`, `${Label.Role}=app`] } });
const logTexts = (): string[] => end.logs.filter((batch) => batch.deploymentId === deploymentId).flatMap((batch) => batch.lines.map((line) => line.text));

beforeAll(async () => {
  await requireRabbit(url);
  await docker.ping();
  work = await tempDir('kraken-worker-it-');
  workerBroker = await AmqpBroker.create({ url });
  orchestratorBroker = await AmqpBroker.create({ url });
  end = await orchestratorEnd(orchestratorBroker, queues);
});

afterAll(async () => {
  // everything is attempted even when a step fails, so a failed run leaves nothing behind
  const steps: (() => Promise<unknown>)[] = [
    ...workers.map((worker) => () => worker.stop()),
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
  console.info(`worker integration timings (ms): ${JSON.stringify(timings)}`);
});

describe('Worker with RabbitMQ and the Docker engine', () => {
  it('deploys a node app sent through the broker: statuses in order, HTTP 200, logs with no seq gaps, stats', async () => {
    await startWorker();
    const repo = await fixtureRepo(path.join(work.path, 'repo'), {
      'shipwreck.toml': manifest('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "node -e \\"console.log(\'tests pass\')\\""'),
      'server.js': chattyNodeApp(BOOT_LINES),
    });
    const started = Date.now();
    await command(MessageType.DeployRequest, { deploymentId, srcUrl: repo, branch: 'main' });
    await eventuallyPasses(() => { expect(statusesOf(deploymentId).at(-1)).toMatch(/Running|Errored/); }, 110_000, 50);
    timings['deployToRunning'] = Date.now() - started;

    const own = end.statuses.filter((status) => status.deploymentId === deploymentId);
    expect(own.at(-1)?.message).toBeUndefined();
    expect(own.map((status) => status.status)).toEqual([
      'ValidatingDeploymentData',
      'RetrievingApplicationData',
      'BuildingDeployment',
      'TestingDeployment',
      'Deploying',
      'Running',
    ]);
    const times = own.map((status) => Date.parse(status.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const running = own.at(-1);
    const port = running?.port ?? 0;
    expect(port).toBeGreaterThan(0);
    expect(running?.url).toMatch(new RegExp(`^http://[0-9.]+:${port}$`));
    expect(running?.commit).toMatch(/^[0-9a-f]{40}$/);

    const response = await fetch(`http://127.0.0.1:${port}/hello`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello from the worker fixture');

    const logsStarted = Date.now();
    await eventuallyPasses(() => { expect(logTexts()).toEqual(expect.arrayContaining([`boot line ${BOOT_LINES - 1}`, 'request GET /hello'])); }, 30_000, 50);
    timings['logsAfterRunning'] = Date.now() - logsStarted;
    const batches = end.logs.filter((batch) => batch.deploymentId === deploymentId);
    expect(batches.map((batch) => batch.seq)).toEqual(batches.map((_, i) => i));
    expect(batches.every((batch) => batch.dropped === undefined)).toBe(true);
    const streams = new Set(batches.flatMap((batch) => batch.lines.map((line) => line.stream)));
    expect([...streams]).toEqual(expect.arrayContaining(['build', 'test', 'stdout']));
    const boot = logTexts().filter((text) => text.startsWith('boot line '));
    expect(boot).toEqual(Array.from({ length: BOOT_LINES }, (_, i) => `boot line ${i}`));

    await eventuallyPasses(() => { expect(end.stats.some((sample) => sample.deploymentId === deploymentId)).toBe(true); }, 20_000, 50);
    const sample = end.stats.find((entry) => entry.deploymentId === deploymentId);
    expect(sample?.memMb).toBeGreaterThan(0);
    expect(sample?.maxMemMb).toBeGreaterThan(0);
  });

  it('after a worker restart on the same node, reports the deployment Running with no second container and resumes logs', async () => {
    const first = workers[0];
    if (!first) throw new Error('the first test did not start a worker');
    // as if the agent process died: stop() leaves app containers alone
    await first.stop();
    const before = end.statuses.length;
    const started = Date.now();
    await startWorker();
    await eventuallyPasses(() => { expect(end.statuses.slice(before).map((status) => [status.deploymentId, status.status])).toEqual([[deploymentId, 'Running']]); }, 20_000, 50);
    timings['restartToRunning'] = Date.now() - started;
    expect(end.statuses.at(-1)?.message).toMatch(/worker restart/);
    const containers = await appContainers();
    expect(containers).toHaveLength(1);
    expect(containers[0]?.State).toBe('running');

    const port = end.statuses.at(-1)?.port ?? 0;
    expect((await fetch(`http://127.0.0.1:${port}/after-restart`)).status).toBe(200);
    await eventuallyPasses(() => { expect(logTexts()).toContain('request GET /after-restart'); }, 20_000, 50);
  });

  it('cancel: DestructionInProgress -> Destroyed and the container is gone', async () => {
    const started = Date.now();
    await command(MessageType.DeployCancel, { deploymentId, reason: 'integration test done' });
    await eventuallyPasses(() => { expect(statusesOf(deploymentId).slice(-2)).toEqual(['DestructionInProgress', 'Destroyed']); }, 30_000, 50);
    timings['cancelToDestroyed'] = Date.now() - started;
    expect(await appContainers()).toEqual([]);
  });
});
