import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { AmqpBroker } from '@kraken/broker';
import { eventually, gitFixtureRepo, isolatedVhost, requireRabbit, tempDir, uniqueName } from '@kraken/testing';
import type { IsolatedVhost, TempDir } from '@kraken/testing';
import { DeploymentStatus, MessageType, createMessage } from '@kraken/messages';
import { FakeWorker } from '../test/fake-worker.js';
import type { OrchestratorQueues } from './options.js';
import { compileOrchestratorOptions } from './options.js';
import { Orchestrator } from './orchestrator.js';
import { LeaderLease } from './leadership/leader-lease.js';
import { OrchestratorStore } from './store/orchestrator-store.js';
import { DataKey } from './data-key.js';

/** The cluster's data key in these tests (one for all stores: copies apply each other's sealed values). */
const dataKey = DataKey.generate('the test data key');

const prefix = uniqueName('orchestrator-int');
const queues: OrchestratorQueues = {
  orchestrator: `${prefix}.orchestrator`,
  telemetry: `${prefix}.telemetry`,
  node: (nodeId) => `${prefix}.node.${nodeId}`,
};
const watchQueues: OrchestratorQueues = {
  orchestrator: `${prefix}.watch.orchestrator`,
  telemetry: `${prefix}.watch.telemetry`,
  node: (nodeId) => `${prefix}.watch.node.${nodeId}`,
};
const HEARTBEAT_MS = 200;

describe('Orchestrator on RabbitMQ', () => {
  const brokers: AmqpBroker[] = [];
  let dir: TempDir;
  // the suite's own vhost (queues, dead letters): the default one is where a Kraken on this machine lives
  let suiteVhost: IsolatedVhost;

  beforeAll(async () => {
    await requireRabbit();
    suiteVhost = await isolatedVhost('kraken-orchestrator-int');
    dir = await tempDir('kraken-orchestrator-int-');
  });

  afterAll(async () => {
    for (const broker of brokers) await broker.close();
    // its queues go with it
    await suiteVhost.remove();
    await dir.remove();
  });

  async function broker(): Promise<AmqpBroker> {
    const created = await AmqpBroker.create({ url: suiteVhost.url });
    brokers.push(created);
    return created;
  }

  it('deploys through a worker queue to Running, and moves the deployment when that worker dies', async () => {
    using store = OrchestratorStore.open({ dataKey, dataDir: dir.path });
    const workerA = await FakeWorker.start({ broker: await broker(), nodeId: 'node-a', queues, shape: { freeMb: 6000 } });
    const workerB = await FakeWorker.start({ broker: await broker(), nodeId: 'node-b', queues, shape: { freeMb: 2000 } });
    await using orchestrator = await Orchestrator.create({
      broker: await broker(),
      store,
      nodeId: 'leader',
      options: { queues, heartbeatIntervalMs: HEARTBEAT_MS, deadAfterMs: 1500, tickIntervalMs: 100 },
    });
    workerA.startHeartbeats(HEARTBEAT_MS);
    workerB.startHeartbeats(HEARTBEAT_MS);
    await eventually(() => store.nodes.list().length === 2, 5000, 'both nodes reported in', 10);

    const created = await orchestrator.createDeployment({ srcUrl: 'https://git.home.lan/alice/todo-api.git', branch: 'main' });
    expect(created.nodeId).toBe('node-a');
    await eventually(() => store.deployments.get(created.id)?.status === DeploymentStatus.Running, 5000, 'Running on node-a', 10);
    expect(workerA.requests().map((r) => [r.body.deploymentId, r.epoch])).toEqual([[created.id, orchestrator.epoch]]);

    // node-a dies: no heartbeats, no consumer
    await workerA.stop();
    const moved = await eventually(() => {
        const request = workerB.requests().find((r) => r.body.deploymentId === created.id);
        return request && store.deployments.get(created.id)?.status === DeploymentStatus.Running && request;
      }, 10_000, 'redeployed and Running on node-b', 10);
    expect(moved.body).toMatchObject({ attempt: 2, port: created.port });
    expect(store.nodes.get('node-a')?.state).toBe('dead');
    expect(store.deployments.get(created.id)).toMatchObject({ nodeId: 'node-b', attempt: 2 });
    expect(store.deployments.get(created.id)?.placementReason).toMatch(
      /^node-a sent no heartbeat for [\d.]+ s \(it usually beats every [\d.]+ s ± [\d.]+ s\); node-b: the only node that can run it/,
    );
    expect(
      store.deployments
        .history(created.id)
        .filter((h) => h.status === DeploymentStatus.Running)
        .map((h) => h.nodeId),
    ).toEqual(['node-a', 'node-b']);
    workerB.stopHeartbeats();
  });

  it('redeploys a watched deployment when a commit is pushed to its branch (real git ls-remote)', async () => {
    const repo = await gitFixtureRepo(path.join(dir.path, 'repo'), { 'server.js': 'console.log("v1")\n' });
    const git = (...args: string[]): string =>
      execFileSync('git', ['-c', 'user.name=Kraken Test', '-c', 'user.email=test@kraken.invalid', ...args], {
        cwd: repo,
        encoding: 'utf8',
      }).trim();
    using store = OrchestratorStore.open({ dataKey, dataDir: path.join(dir.path, 'watch-data') });
    const worker = await FakeWorker.start({ broker: await broker(), nodeId: 'node-a', queues: watchQueues });
    worker.commit = git('rev-parse', 'HEAD');
    await using orchestrator = await Orchestrator.create({
      broker: await broker(),
      store,
      nodeId: 'leader',
      options: { queues: watchQueues, heartbeatIntervalMs: HEARTBEAT_MS, tickIntervalMs: 100, watchIntervalMs: 300 },
    });
    worker.startHeartbeats(HEARTBEAT_MS);
    await eventually(() => store.nodes.get('node-a'), 5000, 'node-a reported in', 10);

    const created = await orchestrator.createDeployment({ srcUrl: `file://${repo}`, branch: 'main', watch: true });
    const first = worker.commit;
    await eventually(() => store.deployments.get(created.id)?.commit === first, 5000, 'Running at the first commit', 10);

    await new Promise((resolve) => setTimeout(resolve, 1000)); // a few rounds: the head did not move
    expect(worker.requests()).toHaveLength(1);

    git('commit', '--quiet', '--allow-empty', '--message', 'v2');
    const second = git('rev-parse', 'HEAD');
    worker.commit = second;
    await eventually(() => store.deployments.get(created.id)?.commit === second, 10_000, 'Running at the pushed commit', 10);
    expect(worker.requests().map((r) => r.body.attempt)).toEqual([1, 2]);
    expect(store.deployments.history(created.id).map((h) => h.status)).toContain(DeploymentStatus.UpdateRequested);
    expect(orchestrator.counters).toMatchObject({ watchRedeploys: 1, watchFailures: 0 });
    worker.stopHeartbeats();
  });

  it("refuses a status a node sends as another node, telling them apart by RabbitMQ's validated user", async () => {
    const vhost = await isolatedVhost('kraken-orchestrator-users');
    try {
      const own = (url: string) => AmqpBroker.create({ url }).then((created) => (brokers.push(created), created));
      const [idA, idB] = [uniqueName('node-a'), uniqueName('node-b')];
      const admin = await own(vhost.url);
      using store = OrchestratorStore.open({ dataKey, dataDir: path.join(dir.path, 'users') });
      await using orchestrator = await Orchestrator.create({ broker: admin, store, nodeId: 'leader', options: { heartbeatIntervalMs: HEARTBEAT_MS, tickIntervalMs: 100 } });
      const defaults = compileOrchestratorOptions().queues;
      const brokerA = await own((await vhost.nodeUser(idA)).url);
      const workerA = await FakeWorker.start({ broker: brokerA, nodeId: idA, queues: defaults });
      const workerB = await FakeWorker.start({ broker: await own((await vhost.nodeUser(idB)).url), nodeId: idB, queues: defaults, shape: { freeMb: 2000 } });
      workerA.startHeartbeats(HEARTBEAT_MS);
      workerB.startHeartbeats(HEARTBEAT_MS);
      await eventually(() => store.nodes.list().length === 2, 5000, 'both nodes reported in', 10);
      const created = await orchestrator.createDeployment({ srcUrl: 'https://git.home.lan/alice/todo-api.git' });
      expect(created.nodeId).toBe(idA);
      await eventually(() => store.deployments.get(created.id)?.status === DeploymentStatus.Running, 5000, 'Running on node A', 10);

      // node B, with its own credential, writes a status that says it comes from node A
      const forged = createMessage(
        MessageType.DeployStatus,
        { deploymentId: created.id, status: DeploymentStatus.Errored, message: 'forged', at: new Date().toISOString(), nodeId: idA },
        { from: idA },
      );
      const brokerB = await own((await vhost.nodeUser(`${idB}-forger`)).url);
      await brokerB.publish(defaults.orchestrator, forged);
      const [letter] = await eventually(async () => {
        const letters = await admin.takeDeadLetters();
        return letters.length > 0 && letters;
      }, 10_000, 'the forged status dead-lettered');
      expect(letter?.reason).toBe(`deploy.status claims to be from node ${idA} but was sent with node ${idB}-forger's broker user`);
      expect(store.deployments.get(created.id)?.status).toBe(DeploymentStatus.Running);
      await workerA.stop();
      await workerB.stop();
    } finally {
      await vhost.remove();
    }
  }, 60_000);

  it('hands leadership to the other candidate on a real single-active-consumer quorum queue when the leader dies', async () => {
    const vhost = await isolatedVhost('kraken-orchestrator-lease');
    try {
      const timings = { tickIntervalMs: 100, silenceMs: 400, leaseMs: 1_500 };
      const brokerA = await AmqpBroker.create({ url: vhost.url });
      const brokerB = await AmqpBroker.create({ url: vhost.url });
      brokers.push(brokerB);
      const a = await LeaderLease.start({ broker: brokerA, nodeId: 'node-a', ...timings });
      const b = await LeaderLease.start({ broker: brokerB, nodeId: 'node-b', ...timings });
      await eventually(() => a.leading, 30_000, 'node-a leading');
      expect(b.leading).toBe(false);
      // node-a's process dies: its connection goes, and RabbitMQ makes node-b's consumer active
      await brokerA.close();
      await eventually(() => !a.leading, 10_000, 'node-a stepping down');
      await eventually(() => b.leading, 30_000, 'node-b leading');
      await a.stop();
      await b.stop();
    } finally {
      await vhost.remove();
    }
  }, 90_000);
});
