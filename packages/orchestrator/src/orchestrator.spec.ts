import { MemoryBroker } from '@kraken/broker';
import { ErrorCode, MemoryLogger } from '@kraken/common';
import { eventually, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { DeploymentStatus, MessageType } from '@kraken/messages';
import { FakeClock } from '../test/fake-clock.js';
import { FakeWorker } from '../test/fake-worker.js';
import { compileOrchestratorOptions } from './options.js';
import { ADOPTED_SOURCE, Orchestrator } from './orchestrator.js';
import { OrchestratorStore } from './store/orchestrator-store.js';
import type { DeploymentRecord } from './store/records.js';
import { DataKey } from './data-key.js';

/** The cluster's data key in these tests (one for all stores: copies apply each other's sealed values). */
const dataKey = DataKey.generate('the test data key');

const queues = compileOrchestratorOptions().queues;
const SRC = 'https://git.home.lan/alice/todo-api.git';

let dir: TempDir;
let clock: FakeClock;
let broker: MemoryBroker;
let store: OrchestratorStore;
let logger: MemoryLogger;
let orchestrators: Orchestrator[];
let workerA: FakeWorker;
let workerB: FakeWorker;

/** An orchestrator on the shared broker and store, ticking only when a test says so. */
async function startOrchestrator(
  extra: Pick<Parameters<typeof Orchestrator.create>[0], 'resolveBranchHead' | 'mayAct' | 'replicated'> & { options?: Parameters<typeof Orchestrator.create>[0]['options'] } = {},
): Promise<Orchestrator> {
  const orchestrator = await Orchestrator.create({
    broker,
    store,
    nodeId: 'leader',
    logger,
    clock,
    ...extra,
    options: { tickIntervalMs: 0, ...extra.options },
  });
  orchestrators.push(orchestrator);
  return orchestrator;
}

/** Both workers heartbeat once and the orchestrator has stored it. */
async function beatBoth(): Promise<void> {
  const before = [store.nodes.get('node-a')?.updateTime, store.nodes.get('node-b')?.updateTime];
  await workerA.beat();
  await workerB.beat();
  const now = new Date(clock.now()).toISOString();
  await eventually(() => store.nodes.get('node-a')?.updateTime === now && store.nodes.get('node-b')?.updateTime === now, 5000, `heartbeats (before: ${String(before)})`, 10);
}

function status(id: string): DeploymentStatus | undefined {
  return store.deployments.get(id)?.status;
}

async function runningOn(orchestrator: Orchestrator, nodeId: string): Promise<DeploymentRecord> {
  const created = await orchestrator.createDeployment({ srcUrl: SRC, branch: 'main' });
  await eventually(() => status(created.id) === DeploymentStatus.Running, 5000, 'Running', 10);
  expect(store.deployments.get(created.id)?.nodeId).toBe(nodeId);
  return created;
}

/**
 * Seven seconds of node-a beating alone (with `shape`), a tick each: node-b, silent, is suspect at
 * 5 s and dead at 6 s. `each` runs after every second's tick.
 */
async function secondsOfNodeAAlone(orchestrator: Orchestrator, options: { shape?: Parameters<FakeWorker['beat']>[0]; each?: (second: number) => void } = {}): Promise<void> {
  for (let second = 1; second <= 7; second++) {
    clock.advance(1000);
    await workerA.beat(options.shape);
    await eventually(() => store.nodes.get('node-a')?.updateTime === new Date(clock.now()).toISOString(), 5000, 'node-a heartbeat', 10);
    await orchestrator.tick();
    options.each?.(second);
  }
}

beforeEach(async () => {
  dir = await tempDir('kraken-orchestrator-');
  clock = new FakeClock();
  broker = new MemoryBroker();
  logger = new MemoryLogger();
  store = OrchestratorStore.open({ dataKey, dataDir: dir.path, clock });
  orchestrators = [];
  workerA = await FakeWorker.start({ broker, nodeId: 'node-a', queues, shape: { freeMb: 1200, load: 0.9 } });
  workerB = await FakeWorker.start({ broker, nodeId: 'node-b', queues, shape: { freeMb: 6000, load: 0.2 } });
});

afterEach(async () => {
  for (const orchestrator of orchestrators) await orchestrator.close();
  await broker.close();
  store.close();
  await dir.remove();
});

describe('Orchestrator', () => {
  it('places a new deployment on the least-loaded node, requests it there and follows it to Running', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const changes: DeploymentStatus[] = [];
    orchestrator.on('deploymentChanged', (d) => changes.push(d.status));

    const created = await orchestrator.createDeployment({ srcUrl: SRC, branch: 'main', env: { NODE_ENV: 'production' } });
    expect(created).toMatchObject({ status: 'DelegatingDeployment', nodeId: 'node-b', port: 20000, attempt: 1 });
    expect(created.id).toMatch(/^todo-api-[0-9a-f]{6}$/);
    expect(created.placementReason).toMatch(
      /^node-b: most headroom \(5\.9 GB free RAM, load 0\.2 on 4 cores, 0 deployments\); node-a has 1\.2 GB free RAM/,
    );

    await eventually(() => status(created.id) === DeploymentStatus.Running, 5000, 'Running', 10);
    const [request] = workerB.requests();
    expect(request?.epoch).toBe(orchestrator.epoch);
    expect(request?.body).toMatchObject({
      deploymentId: created.id,
      srcUrl: SRC,
      branch: 'main',
      port: 20000,
      attempt: 1,
      env: { NODE_ENV: 'production' },
    });
    expect(workerA.received).toEqual([]);
    expect(store.deployments.history(created.id).map((h) => h.status)).toEqual([
      'DeploymentRequested',
      'DelegatingDeployment',
      'BuildingDeployment',
      'TestingDeployment',
      'Deploying',
      'Running',
    ]);
    expect(changes).toEqual([
      'DeploymentRequested',
      'DelegatingDeployment',
      'BuildingDeployment',
      'TestingDeployment',
      'Deploying',
      'Running',
    ]);
  });

  it('gives each deployment its own port, cluster-wide', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const first = await orchestrator.createDeployment({ srcUrl: SRC });
    const second = await orchestrator.createDeployment({ srcUrl: SRC });
    expect([first.port, second.port]).toEqual([20000, 20001]);
  });

  it('names a deployment after its repository, unique among the live ones, or as asked', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const first = await orchestrator.createDeployment({ srcUrl: SRC });
    const second = await orchestrator.createDeployment({ srcUrl: SRC });
    const chosen = await orchestrator.createDeployment({ srcUrl: SRC, name: 'todo' });
    expect([first.name, second.name, chosen.name]).toEqual(['todo-api', 'todo-api-2', 'todo']);
    await expect(orchestrator.createDeployment({ srcUrl: SRC, name: 'todo' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `the name todo is taken by deployment ${chosen.id}; choose another`,
    });
    await expect(orchestrator.createDeployment({ srcUrl: SRC, name: 'Todo_API' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'name: expected 1-63 lower-case letters, digits or "-", not starting or ending with "-", got "Todo_API"',
    });
    expect(store.deployments.list()).toHaveLength(3);
  });

  it('refuses invalid input naming the field, and stores nothing', async () => {
    const orchestrator = await startOrchestrator();
    await expect(orchestrator.createDeployment({ srcUrl: 'ext::sh -c touch% /tmp/pwned' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/^cannot create deployment: srcUrl: /) as unknown,
    });
    await expect(orchestrator.createDeployment({ srcUrl: SRC, memoryMb: -1 })).rejects.toThrow(
      'memoryMb: expected a positive integer, got -1',
    );
    expect(store.deployments.list()).toEqual([]);
  });

  it('rejects and logs a deploy.status forged by another node', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');

    await workerA.report(deployment.id, DeploymentStatus.Errored, { message: 'pretending' });
    await workerA.report(deployment.id, DeploymentStatus.Errored, { claimNodeId: 'node-b', message: 'claiming to be node-b' });
    await eventually(() => broker.stats().deadLettered === 2, 5000, 'dead letters', 10);

    expect((await broker.takeDeadLetters()).map((d) => d.reason)).toEqual([
      `deploy.status for ${deployment.id} from node-a (claiming node-a), but it is placed on node-b`,
      `deploy.status for ${deployment.id} from node-a (claiming node-b), but it is placed on node-b`,
    ]);
    expect(status(deployment.id)).toBe('Running');
    expect(logger.records.filter((r) => r.message === 'rejected a deploy.status')).toHaveLength(2);
  });

  it('tells a node that reports running a deployment placed on another node to stop its copy, and leaves the placement as it is', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');

    // node-a still runs a copy from before a move it never heard of
    await workerA.report(deployment.id, DeploymentStatus.Running, { attempt: deployment.attempt });
    await eventually(() => workerA.ofType(MessageType.DeployStop).some((m) => m.body.deploymentId === deployment.id), 5000, 'the stop sent to node-a', 10);
    const [stop] = workerA.ofType(MessageType.DeployStop);
    expect(stop?.body.reason).toBe('a copy left behind: it runs on node-b');
    expect(store.deployments.require(deployment.id)).toMatchObject({ nodeId: 'node-b', status: DeploymentStatus.Running });
    expect(workerB.ofType(MessageType.DeployStop)).toEqual([]);
  });

  it('adopts an app a node reports running that it has no record of (its state was lost), so it can be cancelled', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const commit = 'c'.repeat(40);
    await workerA.report('orphan-1', DeploymentStatus.Running, { commit, port: 20_007, url: 'http://10.0.0.1:20007' });
    await eventually(() => status('orphan-1') === DeploymentStatus.Running, 5000, 'the orphan adopted', 10);
    expect(store.deployments.get('orphan-1')).toMatchObject({ nodeId: 'node-a', srcUrl: ADOPTED_SOURCE, commit, port: 20_007, url: 'http://10.0.0.1:20007', name: 'orphan-1' });
    expect(store.deployments.get('orphan-1')?.statusMessage).toMatch(/^adopted: node-a runs it, but this orchestrator had no record of it/);

    // what is not a node's own report of a running app is still refused
    await workerA.report('unknown-2', DeploymentStatus.Errored, { message: 'never heard of' });
    await workerA.report('unknown-3', DeploymentStatus.Running, { claimNodeId: 'node-b' });
    await eventually(() => broker.stats().deadLettered === 2, 5000, 'two refusals', 10);
    expect([store.deployments.get('unknown-2'), store.deployments.get('unknown-3')]).toEqual([undefined, undefined]);

    await orchestrator.cancelDeployment('orphan-1');
    await eventually(() => workerA.ofType(MessageType.DeployCancel).some((m) => m.body.deploymentId === 'orphan-1'), 5000, 'the cancel sent to node-a', 10);
  });

  it('refuses to redeploy an adopted app (its source is unknown) and, when its node dies, ends it Errored saying why instead of waiting forever', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    await workerB.report('orphan-2', DeploymentStatus.Running, { commit: 'd'.repeat(40), port: 20_008, url: 'http://10.0.0.2:20008' });
    await eventually(() => status('orphan-2') === DeploymentStatus.Running, 5000, 'the orphan adopted', 10);

    await expect(orchestrator.redeploy('orphan-2')).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/^deployment orphan-2 cannot be redeployed: it was adopted from a node's report/) as unknown });
    expect(status('orphan-2')).toBe(DeploymentStatus.Running);

    await workerB.stop();
    await secondsOfNodeAAlone(orchestrator);
    expect(store.nodes.get('node-b')?.state).toBe('dead');
    expect(store.deployments.require('orphan-2')).toMatchObject({ status: DeploymentStatus.Errored, nodeId: null });
    expect(store.deployments.require('orphan-2').statusMessage).toMatch(/cannot run on another node: it was adopted from a node's report .*deploy its repository again/);
    expect(workerA.requests()).toEqual([]);
  });

  it('waits in DeploymentRequested with the reason when no node can run it, and places it once one can', async () => {
    const orchestrator = await startOrchestrator();
    const created = await orchestrator.createDeployment({ srcUrl: SRC });
    expect(created).toMatchObject({
      status: 'DeploymentRequested',
      nodeId: null,
      statusMessage: 'waiting for a node: no node can run it (docker, 256 MB): no nodes have reported in',
    });
    await orchestrator.tick();
    expect(store.deployments.history(created.id)).toHaveLength(2);

    await beatBoth();
    await orchestrator.tick();
    await eventually(() => status(created.id) === DeploymentStatus.Running, 5000, 'Running', 10);
    expect(store.deployments.get(created.id)?.nodeId).toBe('node-b');
  });

  it('keeps a silent node that still holds its broker connection (a bad link, not a death) and its apps, up to the fixed bound', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    for (let second = 1; second <= 29; second++) {
      clock.advance(1000);
      await workerA.beat();
      await eventually(() => store.nodes.get('node-a')?.updateTime === new Date(clock.now()).toISOString(), 5000, 'node-a heartbeat', 10);
      await orchestrator.tick();
    }
    expect(store.nodes.get('node-b')?.state).toBe('suspect');
    expect(store.deployments.get(deployment.id)?.nodeId).toBe('node-b');
    clock.advance(1000);
    await orchestrator.tick();
    expect(store.nodes.get('node-b')?.state).toBe('dead');
  });

  it("places a deployment on another node when its node's Docker engine did not answer the request, instead of ending Errored", async () => {
    workerB.answering = false;
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const created = await orchestrator.createDeployment({ srcUrl: SRC });
    await eventually(() => workerB.requests().length === 1, 5000, 'the request to node-b', 10);
    // its engine stopped a moment ago: no heartbeat has said so yet
    await workerB.report(created.id, DeploymentStatus.Errored, {
      message: 'the Docker engine did not answer while trying to look up the container to deploy: connect ENOENT /run/docker.sock',
      errorCode: 'ENGINE_DOWN',
    });
    await eventually(() => status(created.id) === DeploymentStatus.Running, 5000, 'Running on node-a', 10);
    expect(store.deployments.get(created.id)).toMatchObject({ nodeId: 'node-a', attempt: 2 });
    expect(store.deployments.get(created.id)?.placementReason).toMatch(/^the Docker engine on node-b did not answer its deploy request; node-a: /);
    expect(store.deployments.history(created.id).map((h) => h.status)).not.toContain('Errored');
    expect(orchestrator.counters.engineDownRetried).toBe(1);
    // in case the engine went away halfway through: node-b stops it once its engine answers, even within the grace
    expect(store.pendingStops.of('node-b').map((stop) => stop.deploymentId)).toEqual([created.id]);
    await workerB.beat({ freeMb: 6000, load: 0.2, dockerHealthy: true, deployments: [] });
    const [stop] = await eventually(() => workerB.ofType(MessageType.DeployStop).length === 1 && workerB.ofType(MessageType.DeployStop), 5000, 'deploy.stop', 10);
    expect(stop?.body).toMatchObject({ deploymentId: created.id, reason: 'moved away: the Docker engine on node-b did not answer its deploy request' });
    expect(store.pendingStops.of('node-b')).toEqual([]);
  });

  it("destroys a deployment cancelled while its node's Docker engine does not answer, and has the node stop it once the engine answers", async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    await orchestrator.cancelDeployment(deployment.id);
    await eventually(() => workerB.ofType(MessageType.DeployCancel).length === 1, 5000, 'the cancel sent to node-b', 10);
    await workerB.report(deployment.id, DeploymentStatus.DestructionInProgress);
    await workerB.report(deployment.id, DeploymentStatus.Errored, {
      message: 'could not stop deployment: the Docker engine did not answer while trying to look up the container to stop: connect ENOENT /run/docker.sock',
      errorCode: 'ENGINE_DOWN',
    });
    await eventually(() => status(deployment.id) === DeploymentStatus.Destroyed, 5000, 'Destroyed', 10);
    expect(store.deployments.get(deployment.id)?.statusMessage).toBe('the Docker engine on node-b did not answer the stop; node-b will be told to stop it once its engine answers again');
    expect(workerA.requests()).toEqual([]);

    // the engine is back (and restarted the container): node-b is told to stop it
    await workerB.beat({ freeMb: 6000, load: 0.2, dockerHealthy: true, deployments: [deployment.id] });
    const [stop] = await eventually(() => workerB.ofType(MessageType.DeployStop).length === 1 && workerB.ofType(MessageType.DeployStop), 5000, 'deploy.stop', 10);
    expect(stop?.body).toMatchObject({ deploymentId: deployment.id, reason: 'destroyed while the Docker engine on node-b did not answer' });
  });

  it("moves a node's Docker apps when its engine stays down past the grace, keeps the node alive, and stops the copies there once the engine is back", async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    const engineDown = { freeMb: 6000, load: 0.2, runtimes: [], dockerHealthy: false, deployments: [deployment.id] };
    // the engine is down from second 2 on: the grace (10 s) ends at second 12
    for (let second = 2; second <= 12; second += 2) {
      clock.advance(2000);
      await workerA.beat();
      await workerB.beat(engineDown);
      const now = new Date(clock.now()).toISOString();
      await eventually(() => store.nodes.get('node-a')?.updateTime === now && store.nodes.get('node-b')?.updateTime === now, 5000, 'heartbeats', 10);
      await orchestrator.tick();
      if (second < 12) expect(store.deployments.get(deployment.id)?.nodeId).toBe('node-b');
    }
    await eventually(() => store.deployments.get(deployment.id)?.nodeId === 'node-a', 5000, 'moved to node-a', 10);
    expect(store.deployments.get(deployment.id)?.placementReason).toMatch(
      /^the Docker engine on node-b has not answered for 10 s \(the node is up; its other apps stay\); node-a: /,
    );
    expect(store.nodes.get('node-b')?.state).toBe('alive');
    await eventually(() => status(deployment.id) === DeploymentStatus.Running, 5000, 'Running on node-a', 10);

    await workerB.beat({ freeMb: 6000, load: 0.2, dockerHealthy: true, deployments: [deployment.id] });
    const [stop] = await eventually(() => workerB.ofType(MessageType.DeployStop).length === 1 && workerB.ofType(MessageType.DeployStop), 5000, 'deploy.stop', 10);
    expect(stop?.body.reason).toMatch(/^moved away: the Docker engine on node-b has not answered/);
    expect(store.deployments.get(deployment.id)?.nodeId).toBe('node-a');
  });

  it("moves a dead node's deployments to another node, keeping port and history, and stops them there when it returns", async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    const transitions: string[] = [];
    orchestrator.on('nodeChanged', (node, transition) => {
      if (transition) transitions.push(`${node.id}:${transition.from ?? 'new'}->${transition.to}`);
    });

    // node-b goes silent, and the broker drops its connection (its consumer); node-a keeps beating. node-b has beaten once, so the detector judges it by
    // the expected 2 s beat and its seeded spread (0.5 s): suspect at 5 s, dead at 6 s
    await workerB.stop();
    await secondsOfNodeAAlone(orchestrator, {
      each: (second) => {
        if (second === 5) expect(store.nodes.get('node-b')?.state).toBe('suspect');
        if (second < 6) expect(store.deployments.get(deployment.id)?.nodeId).toBe('node-b');
      },
    });
    expect(store.nodes.get('node-b')?.state).toBe('dead');
    expect(transitions).toEqual(['node-b:alive->suspect', 'node-b:suspect->dead']);
    // newest first: the node's death, then each app moved off it
    expect(orchestrator.notifications.recent().map((n) => `${n.kind} ${n.nodeId ?? '-'}->${n.toNodeId ?? '-'} ${n.deploymentId ?? '-'}`)).toEqual([
      `app-moved node-b->node-a ${deployment.id}`,
      'node-dead node-b->- -',
    ]);
    expect(orchestrator.notifications.recent()[1]?.message).toMatch(/^Node node-b \(.+\) is dead: node-b sent no heartbeat for 6\.0 s/);

    const moved = store.deployments.get(deployment.id);
    expect(moved).toMatchObject({ nodeId: 'node-a', attempt: 2, port: 20000 });
    expect(moved?.placementReason).toMatch(
      /^node-b sent no heartbeat for 6\.0 s \(it usually beats every 2\.0 s ± 0\.5 s\); node-a: the only node that can run it \(1\.2 GB free RAM/,
    );
    await eventually(() => status(deployment.id) === DeploymentStatus.Running, 5000, 'Running on node-a', 10);
    expect(workerA.requests().map((r) => r.body)).toMatchObject([{ deploymentId: deployment.id, attempt: 2, port: 20000 }]);
    const history = store.deployments.history(deployment.id);
    expect(history.map((h) => `${h.status}@${h.nodeId ?? '-'}`)).toEqual([
      'DeploymentRequested@-',
      'DelegatingDeployment@leader',
      'BuildingDeployment@node-b',
      'TestingDeployment@node-b',
      'Deploying@node-b',
      'Running@node-b',
      'DelegatingDeployment@leader',
      'BuildingDeployment@node-a',
      'TestingDeployment@node-a',
      'Deploying@node-a',
      'Running@node-a',
    ]);

    // node-b returns: it is told to stop its copy, and what it still says about it is refused
    await workerB.listen();
    await workerB.beat();
    const [stop] = await eventually(() => workerB.ofType(MessageType.DeployStop).length === 1 && workerB.ofType(MessageType.DeployStop), 5000, 'deploy.stop', 10);
    expect(stop?.body).toEqual({ deploymentId: deployment.id, reason: 'moved away: node-b sent no heartbeat for 6.0 s (it usually beats every 2.0 s ± 0.5 s)' });
    expect(stop?.epoch).toBe(orchestrator.epoch);
    expect(store.nodes.get('node-b')?.state).toBe('alive');
    expect(store.pendingStops.of('node-b')).toEqual([]);
    await workerB.report(deployment.id, DeploymentStatus.Running);
    await eventually(() => broker.stats().deadLettered === 1, 5000, 'stale status refused', 10);
    expect(store.deployments.get(deployment.id)?.nodeId).toBe('node-a');
  });

  it('keeps a failover build of a running app on another node, and moves it there as a start (fromKept) when its node dies', async () => {
    const orchestrator = await startOrchestrator();
    const sha = 'c0ffee'.padEnd(40, '0');
    workerB.commit = sha;
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    // node-a runs an agent that makes failover builds; until it says so it is not asked
    await orchestrator.tick();
    expect(workerA.ofType(MessageType.DeployPrepare)).toEqual([]);
    clock.advance(1000);
    await workerA.beat({ freeMb: 1200, load: 0.9, failoverBuilds: [] });
    await workerB.beat({ freeMb: 6000, load: 0.2, failoverBuilds: [], deployments: [deployment.id] });
    await eventually(() => orchestrator.listNodes().every((node) => node.updateTime === new Date(clock.now()).toISOString()), 5000, 'beats', 10);
    await orchestrator.tick();
    const [prepare] = await eventually(() => workerA.ofType(MessageType.DeployPrepare).length === 1 && workerA.ofType(MessageType.DeployPrepare), 5000, 'deploy.prepare', 10);
    expect(prepare?.body).toEqual({ deploymentId: deployment.id, srcUrl: SRC, branch: 'main', commit: sha, env: {}, runtime: 'docker' });
    expect(orchestrator.failover(deployment.id)).toEqual({ nodeId: 'node-a', commit: sha, state: 'asked' });
    await orchestrator.tick();
    expect(workerA.ofType(MessageType.DeployPrepare)).toHaveLength(1);

    const ready = { freeMb: 1200, load: 0.9, failoverBuilds: [{ deploymentId: deployment.id, commit: sha, state: 'ready' as const }] };
    await workerA.beat(ready);
    await eventually(() => orchestrator.failover(deployment.id)?.state === 'ready', 5000, 'failover build ready', 10);

    await workerB.stop();
    await secondsOfNodeAAlone(orchestrator, { shape: ready });
    expect(store.nodes.get('node-b')?.state).toBe('dead');
    expect(store.deployments.get(deployment.id)?.placementReason).toMatch(/; node-a: holds a ready build of it \(its failover node\)/);
    const [move] = await eventually(() => workerA.requests().length === 1 && workerA.requests(), 5000, 'the move', 10);
    expect(move?.body).toMatchObject({ deploymentId: deployment.id, commit: sha, fromKept: true, attempt: 2 });
    expect(move?.body.replace).toBeUndefined();
  });

  it('tells a node to free the failover build of a deployment that was cancelled', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    await orchestrator.cancelDeployment(deployment.id);
    await eventually(() => workerB.ofType(MessageType.DeployCancel).length > 0, 5000, 'cancel', 10);
    await workerB.report(deployment.id, DeploymentStatus.Destroyed);
    await eventually(() => status(deployment.id) === DeploymentStatus.Destroyed, 5000, 'Destroyed', 10);
    clock.advance(1000);
    await workerA.beat({ failoverBuilds: [{ deploymentId: deployment.id, commit: 'a'.repeat(40), state: 'ready' }] });
    await workerB.beat({ failoverBuilds: [] });
    await eventually(() => orchestrator.listNodes().every((node) => node.updateTime === new Date(clock.now()).toISOString()), 5000, 'beats', 10);
    await orchestrator.tick();
    const [forget] = await eventually(() => workerA.ofType(MessageType.DeployPrepare).length === 1 && workerA.ofType(MessageType.DeployPrepare), 5000, 'forget', 10);
    expect(forget?.body).toEqual({ deploymentId: deployment.id, forget: true });
  });

  it('redeploys elsewhere while its node is suspect, and tells that node to stop its old copy once it is back', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    // node-b goes silent (a cut link): suspect after 5 s, not dead yet
    await workerB.stop();
    for (let second = 1; second <= 5; second++) {
      clock.advance(1000);
      await workerA.beat();
      await eventually(() => store.nodes.get('node-a')?.updateTime === new Date(clock.now()).toISOString(), 5000, 'node-a heartbeat', 10);
      await orchestrator.tick();
    }
    expect(store.nodes.get('node-b')?.state).toBe('suspect');
    const redeployed = await orchestrator.redeploy(deployment.id);
    expect(redeployed).toMatchObject({ nodeId: 'node-a', attempt: 2 });
    expect(store.pendingStops.of('node-b')).toEqual([{ deploymentId: deployment.id, nodeId: 'node-b', reason: expect.stringMatching(/^moved away: placed on node-a$/) as unknown }]);

    await workerB.listen();
    await workerB.beat();
    const [stop] = await eventually(() => workerB.ofType(MessageType.DeployStop).length === 1 && workerB.ofType(MessageType.DeployStop), 5000, 'deploy.stop', 10);
    expect(stop?.body).toEqual({ deploymentId: deployment.id, reason: 'moved away: placed on node-a' });
    expect(store.pendingStops.of('node-b')).toEqual([]);
    expect(store.deployments.get(deployment.id)?.nodeId).toBe('node-a');
  });

  it('gives a deployment back to the only node that can run it when that node returns, instead of stopping it', async () => {
    const orchestrator = await startOrchestrator();
    await workerB.beat();
    await eventually(() => store.nodes.get('node-b') !== undefined, 5000, 'node-b known', 10);
    const deployment = await runningOn(orchestrator, 'node-b');
    await workerB.stop();
    for (let second = 1; second <= 11; second++) {
      clock.advance(1000);
      await orchestrator.tick();
    }
    expect(store.nodes.get('node-b')?.state).toBe('dead');
    expect(store.deployments.get(deployment.id)).toMatchObject({ status: 'DeploymentRequested', nodeId: null });

    await workerB.listen();
    await workerB.beat();
    await eventually(() => status(deployment.id) === DeploymentStatus.Running, 5000, 'Running again', 10);
    expect(store.deployments.get(deployment.id)?.nodeId).toBe('node-b');
    expect(workerB.ofType(MessageType.DeployStop)).toEqual([]);
    expect(store.pendingStops.of('node-b')).toEqual([]);
  });

  it('runs a deployment that names no runtime as a process when the live nodes have only that runtime', async () => {
    const processOnly = await FakeWorker.start({ broker, nodeId: 'laptop', queues, shape: { runtimes: ['process'] } });
    const orchestrator = await startOrchestrator();
    await processOnly.beat();
    await eventually(() => store.nodes.get('laptop') !== undefined, 5000, 'laptop known', 10);
    const created = await orchestrator.createDeployment({ srcUrl: SRC });
    expect(created.runtime).toBe('process');
    await eventually(() => status(created.id) === DeploymentStatus.Running, 5000, 'Running', 10);
    expect(store.deployments.get(created.id)?.nodeId).toBe('laptop');
    expect(processOnly.requests().map((r) => r.body)).toMatchObject([{ deploymentId: created.id, runtime: 'process' }]);
    await processOnly.stop();
  });

  it('runs a deployment that names no runtime as a process when no node is alive and the known ones have only that runtime (a new leader before the first heartbeats)', async () => {
    const processOnly = await FakeWorker.start({ broker, nodeId: 'laptop', queues, shape: { runtimes: ['process'] } });
    const orchestrator = await startOrchestrator();
    await processOnly.beat();
    await eventually(() => store.nodes.get('laptop') !== undefined, 5000, 'laptop known', 10);
    for (let second = 1; second <= 7; second++) {
      clock.advance(1000);
      await orchestrator.tick();
    }
    expect(store.nodes.list().filter((node) => node.state === 'alive')).toEqual([]);
    const created = await orchestrator.createDeployment({ srcUrl: SRC });
    expect(created.runtime).toBe('process');
    await processOnly.stop();
  });

  it('gives a deployment another port when its node reports the host port taken, instead of ending Errored', async () => {
    workerB.answering = false;
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const created = await orchestrator.createDeployment({ srcUrl: SRC });
    await eventually(() => workerB.requests().length === 1, 5000, 'first request', 10);
    expect(store.deployments.get(created.id)?.port).toBe(20000);
    await workerB.report(created.id, DeploymentStatus.Errored, { message: 'host port 20000 is already in use on this node', errorCode: 'CONFLICT', port: 20000 });
    await eventually(() => workerB.requests().length === 2 || workerA.requests().length === 1, 5000, 'second request', 10);
    const again = store.deployments.get(created.id);
    expect(again).toMatchObject({ status: 'DelegatingDeployment', port: 20001, attempt: 2 });
    expect(again?.placementReason).toMatch(/^host port 20000 is taken on node-b; /);
    expect(store.deployments.history(created.id).map((h) => h.status)).not.toContain('Errored');
    expect(orchestrator.counters.portsRetried).toBe(1);

    // a failure that is not about the port still ends the deployment
    await (again?.nodeId === 'node-a' ? workerA : workerB).report(created.id, DeploymentStatus.Errored, { message: 'npm test failed', errorCode: 'INVALID_INPUT' });
    await eventually(() => status(created.id) === DeploymentStatus.Errored, 5000, 'Errored', 10);
  });

  it('skips past every host port other programs hold on the node, not just the first three', async () => {
    workerA.answering = false;
    workerB.answering = false;
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const created = await orchestrator.createDeployment({ srcUrl: SRC });
    // other programs listen on 20000-20004 on both nodes
    for (let attempt = 1; attempt <= 5; attempt++) {
      const requests = () => [...workerA.requests(), ...workerB.requests()];
      await eventually(() => requests().length === attempt, 5000, `request ${String(attempt)}`, 10);
      const placed = store.deployments.get(created.id);
      const port = 20000 + attempt - 1;
      expect(placed?.port).toBe(port);
      const worker = placed?.nodeId === 'node-a' ? workerA : workerB;
      await worker.report(created.id, DeploymentStatus.Errored, { message: `host port ${String(port)} is already in use on this node`, errorCode: 'CONFLICT', port });
    }
    await eventually(() => store.deployments.get(created.id)?.port === 20005, 5000, 'a free port', 10);
    expect(store.deployments.get(created.id)).toMatchObject({ status: 'DelegatingDeployment', attempt: 6 });
    expect(store.deployments.history(created.id).map((h) => h.status)).not.toContain('Errored');
    expect(orchestrator.counters.portsRetried).toBe(5);
  });

  it('sends a deploy.request again when the node says it no longer works on it (the node restarted)', async () => {
    workerB.answering = false;
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const created = await orchestrator.createDeployment({ srcUrl: SRC });
    await eventually(() => workerB.requests().length === 1, 5000, 'first request', 10);
    await workerB.report(created.id, DeploymentStatus.BuildingDeployment);
    await eventually(() => status(created.id) === DeploymentStatus.BuildingDeployment, 5000, 'Building', 10);

    // still working on it: nothing is re-sent, however long it takes
    clock.advance(20_000);
    await workerB.beat({ freeMb: 6000, load: 0.2, working: [created.id] });
    await eventually(() => store.nodes.get('node-b')?.updateTime === new Date(clock.now()).toISOString(), 5000, 'beat', 10);
    expect(workerB.requests()).toHaveLength(1);

    // restarted: it holds nothing, so the request goes out again, once per quiet period
    clock.advance(1_000);
    await workerB.beat({ freeMb: 6000, load: 0.2, working: [] });
    await eventually(() => workerB.requests().length === 2, 5000, 'request re-sent', 10);
    expect(workerB.requests()[1]?.body).toMatchObject({ deploymentId: created.id, attempt: 1 });
    clock.advance(1_000);
    await workerB.beat({ freeMb: 6000, load: 0.2, working: [] });
    await eventually(() => store.nodes.get('node-b')?.updateTime === new Date(clock.now()).toISOString(), 5000, 'beat', 10);
    expect(workerB.requests()).toHaveLength(2);
    expect(logger.records.filter((r) => r.message.startsWith('a node no longer had work placed on it'))).toHaveLength(1);
  });

  it('resumes in-flight deployments after a restart without duplicating them', async () => {
    workerB.answering = false;
    const first = await startOrchestrator();
    await beatBoth();
    const created = await first.createDeployment({ srcUrl: SRC });
    await eventually(() => workerB.requests().length === 1, 5000, 'first request', 10);
    await first.close();

    const second = await startOrchestrator();
    expect(second.epoch).toBe(first.epoch + 1);
    const requests = await eventually(() => workerB.requests().length === 2 && workerB.requests(), 5000, 'request re-sent', 10);
    expect(requests.map((r) => [r.body.deploymentId, r.body.attempt, r.epoch])).toEqual([
      [created.id, 1, first.epoch],
      [created.id, 1, second.epoch],
    ]);
    expect(store.deployments.list().map((d) => d.id)).toEqual([created.id]);
    // node-a gets no work: only the news of the new term, which fences the former one
    expect(workerA.received.map((m) => [m.type, m.epoch])).toEqual([['leader.elected', second.epoch]]);

    await workerB.report(created.id, DeploymentStatus.Running);
    await eventually(() => status(created.id) === DeploymentStatus.Running, 5000, 'Running', 10);
    expect(store.deployments.get(created.id)).toMatchObject({ nodeId: 'node-b', attempt: 1 });
  });

  it('does nothing once it no longer leads: sends no command, judges no node, leaves status messages to the leader', async () => {
    let leads = true;
    const orchestrator = await startOrchestrator({ mayAct: () => leads });
    await beatBoth();
    leads = false;
    await expect(orchestrator.createDeployment({ srcUrl: SRC })).rejects.toThrow(/cannot create a deployment: orchestrator leader \(epoch \d+\) no longer leads the cluster/);
    expect(store.deployments.list()).toEqual([]);
    expect(workerB.requests()).toEqual([]);
    clock.advance(60_000);
    await orchestrator.tick();
    expect(store.nodes.get('node-a')?.state).toBe('alive');
    const before = store.nodes.get('node-b')?.updateTime;
    await workerB.beat();
    // requeued for whichever orchestrator leads: this one never stores it
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(store.nodes.get('node-b')?.updateTime).toBe(before);
    leads = true;
    await eventually(() => store.nodes.get('node-b')?.updateTime === new Date(clock.now()).toISOString(), 5000, 'the beat, taken once it leads again', 10);
  });

  it('acks a log batch only once its change has left for the standbys: a leader that dies first leaves it in the queue', async () => {
    let replicate = (): void => undefined;
    const replicatedGate = new Promise<void>((resolve) => {
      replicate = resolve;
    });
    const orchestrator = await startOrchestrator({ replicated: () => replicatedGate });
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    await workerB.log(deployment.id, 0, ['stored, not yet replicated']);
    await eventually(() => store.logs.read(deployment.id).length === 1, 5000, 'the line stored', 10);
    // the leader dies before the standbys have the change: the batch goes to whoever consumes next
    await orchestrator.close();
    const redelivered: { type: string; redelivered: boolean }[] = [];
    const next = await broker.consume(queues.telemetry, (delivery) => {
      redelivered.push({ type: delivery.message.type, redelivered: delivery.redelivered });
    });
    await eventually(() => redelivered.some((seen) => seen.type === MessageType.DeployLog), 5000, 'the log batch delivered again', 10);
    expect(redelivered.filter((seen) => seen.type === MessageType.DeployLog)).toEqual([{ type: MessageType.DeployLog, redelivered: true }]);
    await next.cancel();
    replicate();
  });

  it('does not re-send deployments a live node is already working on after a restart', async () => {
    const first = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(first, 'node-b');
    await first.close();
    await startOrchestrator();
    await beatBoth();
    expect(workerB.requests()).toHaveLength(1);
    expect(status(deployment.id)).toBe('Running');
  });

  it('cancels a deployment through its node', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    const cancelled = await orchestrator.cancelDeployment(deployment.id);
    expect(cancelled.status).toBe('DestructionRequested');
    const [cancel] = await eventually(() => workerB.ofType(MessageType.DeployCancel).length > 0 && workerB.ofType(MessageType.DeployCancel), 5000, 'cancel', 10);
    expect(cancel?.body).toEqual({ deploymentId: deployment.id, reason: 'cancelled by the user' });
    await workerB.report(deployment.id, DeploymentStatus.Destroyed);
    await eventually(() => status(deployment.id) === DeploymentStatus.Destroyed, 5000, 'Destroyed', 10);
  });

  it('stops, starts and restarts a deployment through its node without a new deploy.request, keeping its node and port', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    const placed = store.deployments.require(deployment.id);

    const stopping = await orchestrator.stopDeployment(deployment.id);
    expect(stopping.status).toBe(DeploymentStatus.Running);
    const [stop] = await eventually(() => workerB.ofType(MessageType.DeployLifecycle).length === 1 && workerB.ofType(MessageType.DeployLifecycle), 5000, 'stop', 10);
    expect(stop?.body).toEqual({ deploymentId: deployment.id, action: 'stop', attempt: 1, reason: 'stopped by the user' });
    await workerB.report(deployment.id, DeploymentStatus.Stopped, { attempt: 1 });
    await eventually(() => status(deployment.id) === DeploymentStatus.Stopped, 5000, 'Stopped', 10);
    // a crash-watch report the node sent before the stop must not undo it
    await workerB.report(deployment.id, DeploymentStatus.Running, { attempt: 1 });
    await eventually(() => orchestrator.counters.staleStatusesIgnored === 1, 5000, 'stale Running ignored', 10);
    await expect(orchestrator.stopDeployment(deployment.id)).rejects.toThrow(`cannot stop deployment ${deployment.id}: it is already stopped`);

    const starting = await orchestrator.startDeployment(deployment.id);
    expect(starting).toMatchObject({ status: DeploymentStatus.Deploying, nodeId: 'node-b', port: placed.port, name: placed.name });
    await eventually(() => workerB.ofType(MessageType.DeployLifecycle).length === 2, 5000, 'start', 10);
    expect(workerB.ofType(MessageType.DeployLifecycle)[1]?.body.action).toBe('start');
    await workerB.report(deployment.id, DeploymentStatus.Running, { attempt: 1 });
    await eventually(() => status(deployment.id) === DeploymentStatus.Running, 5000, 'Running again', 10);
    await expect(orchestrator.startDeployment(deployment.id)).rejects.toThrow('it is already running');

    const restarting = await orchestrator.restartDeployment(deployment.id);
    expect(restarting.status).toBe(DeploymentStatus.Deploying);
    expect(restarting.statusMessage).toMatch(/^restart requested: stopping and starting it again on node-b, without a build$/);
    await eventually(() => workerB.ofType(MessageType.DeployLifecycle).length === 3, 5000, 'restart', 10);
    expect(workerB.ofType(MessageType.DeployLifecycle)[2]?.body.action).toBe('restart');
    // none of it built anything: the only deploy.request is the first one
    expect(workerB.requests()).toHaveLength(1);
    expect(store.deployments.require(deployment.id)).toMatchObject({ nodeId: 'node-b', port: placed.port, attempt: 1 });
    await expect(orchestrator.stopDeployment('no-such-app')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it("leaves a stopped deployment on its dead node: failover neither moves nor restarts it, nor does the node's return", async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    await orchestrator.stopDeployment(deployment.id);
    await workerB.report(deployment.id, DeploymentStatus.Stopped, { attempt: 1 });
    await eventually(() => status(deployment.id) === DeploymentStatus.Stopped, 5000, 'Stopped', 10);

    await workerB.stop();
    await secondsOfNodeAAlone(orchestrator);
    expect(store.nodes.get('node-b')?.state).toBe('dead');
    expect(store.deployments.require(deployment.id)).toMatchObject({ status: DeploymentStatus.Stopped, nodeId: 'node-b', attempt: 1 });
    expect(workerA.requests()).toEqual([]);
    await expect(orchestrator.startDeployment(deployment.id)).rejects.toMatchObject({ code: 'UNAVAILABLE' });

    await workerB.listen();
    await workerB.beat();
    await eventually(() => store.nodes.get('node-b')?.state === 'alive', 5000, 'node-b back', 10);
    expect(store.pendingStops.of('node-b')).toEqual([]);
    expect(workerB.requests()).toHaveLength(1);
    expect(status(deployment.id)).toBe(DeploymentStatus.Stopped);
  });

  it('removes only a Destroyed or Errored deployment, keeps it readable by id, and deletes it once the retention ends', async () => {
    const orchestrator = await startOrchestrator({ options: { removedRetentionMs: 60_000 } });
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    await expect(orchestrator.removeDeployment(deployment.id)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `deployment ${deployment.id} is Running: only a Destroyed or Errored deployment can be removed; cancel it first`,
    });
    await expect(orchestrator.removeDeployment('nope-1')).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no deployment with id nope-1' });

    await orchestrator.cancelDeployment(deployment.id);
    await workerB.report(deployment.id, DeploymentStatus.Destroyed);
    await eventually(() => status(deployment.id) === DeploymentStatus.Destroyed, 5000, 'Destroyed', 10);
    const changed: DeploymentRecord[] = [];
    orchestrator.on('deploymentChanged', (d) => changed.push(d));
    const removed = await orchestrator.removeDeployment(deployment.id);
    expect(removed.removedAt).toBe(new Date(clock.now()).toISOString());
    // every UI drops it from its list on this event
    expect(changed.map((d) => d.removedAt)).toEqual([removed.removedAt]);
    expect(orchestrator.listDeployments()).toEqual([]);
    expect(orchestrator.getDeployment(deployment.id)?.status).toBe(DeploymentStatus.Destroyed);
    await expect(orchestrator.removeDeployment(deployment.id)).resolves.toBe(removed);
    await expect(orchestrator.redeploy(deployment.id)).rejects.toMatchObject({ code: 'CONFLICT', message: `deployment ${deployment.id} was removed; deploy its repository again instead` });

    await orchestrator.tick();
    expect(orchestrator.getDeployment(deployment.id)).toBeDefined();
    clock.advance(60_000);
    await orchestrator.tick();
    expect(orchestrator.getDeployment(deployment.id)).toBeUndefined();
    expect(logger.records.some((entry) => entry.message === 'deleted removed deployments past their retention, with their logs')).toBe(true);
  });

  it('redeploys on the same node with the next attempt', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    const updated = await orchestrator.redeploy(deployment.id);
    expect(updated).toMatchObject({ status: 'UpdateRequested', attempt: 2, nodeId: 'node-b' });
    await eventually(() => workerB.requests().length === 2, 5000, 'second request', 10);
    // replace: the node runs this deployment already and must deploy it afresh, not report it running
    expect(workerB.requests().map((r) => [r.body.attempt, r.body.replace])).toEqual([
      [1, undefined],
      [2, true],
    ]);
  });

  it('restarts a running deployment with changed settings: same node, same commit, the new env, the names in its status', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    await workerB.report(deployment.id, DeploymentStatus.Running, { commit: 'abc1234def' });
    await eventually(() => store.deployments.get(deployment.id)?.commit === 'abc1234def', 5000, 'the commit stored', 10);
    const updated = await orchestrator.changeEnv(deployment.id, { set: { GREETING: 'top-secret' }, unset: [] });
    expect(updated).toMatchObject({ status: 'UpdateRequested', attempt: 2, nodeId: 'node-b', env: { GREETING: 'top-secret' }, statusMessage: 'restarting with changed settings: set GREETING' });
    await eventually(() => workerB.requests().length === 2, 5000, 'second request', 10);
    expect(workerB.requests()[1]?.body).toMatchObject({ attempt: 2, replace: true, commit: 'abc1234def', env: { GREETING: 'top-secret' } });
    expect(JSON.stringify(logger.records)).not.toContain('top-secret');
  });

  it('rolls a running deployment back to the previous successful commit on its node, as a new release, asking for the kept build', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    const [v1, v2] = ['1111111aaaa', '2222222bbbb'];
    await workerB.report(deployment.id, DeploymentStatus.Running, { commit: v1 });
    await eventually(() => store.deployments.get(deployment.id)?.commit === v1, 5000, 'v1 stored', 10);
    await orchestrator.redeploy(deployment.id);
    await eventually(() => workerB.requests().length === 2, 5000, 'the redeploy', 10);
    await workerB.report(deployment.id, DeploymentStatus.Running, { commit: v2, attempt: 2 });
    await eventually(() => store.deployments.get(deployment.id)?.commit === v2, 5000, 'v2 stored', 10);

    const updated = await orchestrator.rollback(deployment.id);
    expect(updated).toMatchObject({ status: 'UpdateRequested', attempt: 3, nodeId: 'node-b', commit: v1, statusMessage: 'rolling back to 1111111' });
    await eventually(() => workerB.requests().length === 3, 5000, 'the rollback request', 10);
    expect(workerB.requests()[2]?.body).toMatchObject({ attempt: 3, replace: true, fromKept: true, commit: v1 });
    await eventually(() => status(deployment.id) === DeploymentStatus.Running, 5000, 'Running again', 10);
    expect(orchestrator.releases.list(deployment.id).at(-1)).toMatchObject({ number: 3, commit: v1, trigger: 'rollback to 1111111', result: 'succeeded' });
    // a redeploy of the branch head rebuilds: no pinned commit, nothing taken from what the node kept
    expect(workerB.requests()[1]?.body.fromKept).toBeUndefined();
    await expect(orchestrator.rollback(deployment.id, v1.slice(0, 7))).rejects.toMatchObject({ code: ErrorCode.Conflict, message: `deployment ${deployment.id} already runs 1111111` });
  });

  it('keeps changed settings of an errored deployment for its next redeploy, without sending anything', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    await workerB.report(deployment.id, DeploymentStatus.Errored, { message: 'GREETING is missing' });
    await eventually(() => status(deployment.id) === DeploymentStatus.Errored, 5000, 'Errored', 10);
    const stored = await orchestrator.changeEnv(deployment.id, { set: { GREETING: 'hi' }, unset: [] });
    expect(stored).toMatchObject({ status: 'Errored', env: { GREETING: 'hi' } });
    expect(workerB.requests()).toHaveLength(1);
    await orchestrator.redeploy(deployment.id);
    await eventually(() => workerB.requests().length === 2, 5000, 'the redeploy', 10);
    expect(workerB.requests()[1]?.body.env).toEqual({ GREETING: 'hi' });
  });

  it('ignores a late deploy.status of an older attempt after a redeploy, and counts it', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    workerB.answering = false;
    await orchestrator.redeploy(deployment.id);
    await workerB.report(deployment.id, DeploymentStatus.Running, { attempt: 1, message: 'late, from the first attempt' });
    await eventually(() => orchestrator.counters.staleStatusesIgnored === 1, 5000, 'the late status ignored', 10);
    expect(status(deployment.id)).toBe(DeploymentStatus.UpdateRequested);
    await workerB.report(deployment.id, DeploymentStatus.ValidatingDeploymentData, { attempt: 2 });
    await eventually(() => status(deployment.id) === DeploymentStatus.ValidatingDeploymentData, 5000, 'the new attempt progresses', 10);
  });

  it('ignores a deploy.status that would move a deployment backwards within an attempt, and counts it', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    const history = store.deployments.history(deployment.id);

    // reordered by a redelivery: older than the Running already recorded
    await workerB.report(deployment.id, DeploymentStatus.BuildingDeployment);
    await workerB.report(deployment.id, DeploymentStatus.Deploying);
    await eventually(() => orchestrator.counters.staleStatusesIgnored === 2, 5000, 'two stale statuses ignored', 10);
    expect(status(deployment.id)).toBe(DeploymentStatus.Running);
    expect(store.deployments.history(deployment.id)).toEqual(history);
    expect(broker.stats().deadLettered).toBe(0);
    expect(
      logger.records
        .filter((r) => r.level === 'debug' && r.message === 'ignored a stale deploy.status')
        .map((r) => [r.fields['current'], r.fields['reported']]),
    ).toEqual([
      ['Running', 'BuildingDeployment'],
      ['Running', 'Deploying'],
    ]);

    // a redeploy starts a new attempt, in which the worker's progress counts again
    await orchestrator.redeploy(deployment.id);
    await eventually(() => store.deployments.history(deployment.id).length === history.length + 5, 5000, 'the second attempt', 10);
    expect(
      store.deployments
        .history(deployment.id)
        .slice(history.length)
        .map((h) => h.status),
    ).toEqual([
      DeploymentStatus.UpdateRequested,
      DeploymentStatus.BuildingDeployment,
      DeploymentStatus.TestingDeployment,
      DeploymentStatus.Deploying,
      DeploymentStatus.Running,
    ]);

    // nothing the worker says after a terminal status is news
    await workerB.report(deployment.id, DeploymentStatus.Errored, { message: 'container exited' });
    await eventually(() => status(deployment.id) === DeploymentStatus.Errored, 5000, 'Errored', 10);
    await workerB.report(deployment.id, DeploymentStatus.Running);
    await eventually(() => orchestrator.counters.staleStatusesIgnored === 3, 5000, 'the late Running ignored', 10);
    expect(store.deployments.get(deployment.id)).toMatchObject({ status: 'Errored', statusMessage: 'container exited' });
    // one notification for the failure, none for what was ignored after it
    expect(orchestrator.notifications.recent()).toMatchObject([
      { kind: 'deploy-failed', deploymentId: deployment.id, nodeId: 'node-b', message: expect.stringMatching(/failed on node-b: container exited$/) as unknown },
    ]);
  });

  it('keeps a bounded history of the stats from the placed node, in orchestrator time, until the app is destroyed', async () => {
    const orchestrator = await startOrchestrator({ options: { statsSamples: 3 } });
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    const changes: (number | null)[] = [];
    orchestrator.on('deploymentChanged', (d) => changes.push(d.cpuPercent));

    for (const cpuPercent of [10, 20, 30, 40]) {
      await workerB.stats(deployment.id, { cpuPercent, memMb: 100 + cpuPercent });
      await eventually(() => store.deployments.get(deployment.id)?.cpuPercent === cpuPercent, 5000, `stats ${cpuPercent}`, 10);
      clock.advance(10_000);
    }
    await workerA.stats(deployment.id, { cpuPercent: 99, memMb: 999 });
    await workerB.stats(deployment.id, { cpuPercent: 50, memMb: 150 });
    await eventually(() => store.deployments.get(deployment.id)?.cpuPercent === 50, 5000, 'stats 50', 10);

    expect(orchestrator.statsSamples(deployment.id)).toEqual([
      { at: '2025-11-25T12:00:20.000Z', cpuPercent: 30, memMb: 130, maxMemMb: 256 },
      { at: '2025-11-25T12:00:30.000Z', cpuPercent: 40, memMb: 140, maxMemMb: 256 },
      { at: '2025-11-25T12:00:40.000Z', cpuPercent: 50, memMb: 150, maxMemMb: 256 },
    ]);
    expect(store.deployments.get(deployment.id)?.statsAt).toBe('2025-11-25T12:00:40.000Z');
    expect(changes).toEqual([10, 20, 30, 40, 50]);
    expect(() => orchestrator.statsSamples('ghost')).toThrow('no deployment with id ghost');

    await orchestrator.cancelDeployment(deployment.id);
    await workerB.report(deployment.id, DeploymentStatus.Destroyed);
    await eventually(() => status(deployment.id) === DeploymentStatus.Destroyed, 5000, 'Destroyed', 10);
    expect(orchestrator.statsSamples(deployment.id)).toEqual([]);
  });

  it("keeps each node's heartbeats as one sample per interval, the newest beat replacing its window's, bounded by nodeSamples", async () => {
    const orchestrator = await startOrchestrator({ options: { nodeSamples: 2, nodeSampleIntervalMs: 10_000 } });
    const beat = async (cpuBusyPercent: number) => {
      const at = new Date(clock.now()).toISOString();
      await workerA.beat({ cpuBusyPercent, disk: { usedMb: 1000 + cpuBusyPercent, totalMb: 20_000 }, freeMb: 2048 });
      await eventually(() => orchestrator.nodeSamples('node-a').at(-1)?.at === at, 5000, `heartbeat ${cpuBusyPercent}`, 10);
    };
    await beat(10);
    clock.advance(4_000);
    await beat(20); // same window: replaces 10
    expect(orchestrator.nodeSamples('node-a')).toEqual([
      { at: '2025-11-25T12:00:04.000Z', cpuPercent: 20, memUsedMb: 6144, memTotalMb: 8192, diskUsedMb: 1020, diskTotalMb: 20_000 },
    ]);
    clock.advance(8_000);
    await beat(30);
    clock.advance(10_000);
    await beat(40); // a third window: the first is dropped
    expect(orchestrator.nodeSamples('node-a').map((s) => [s.at, s.cpuPercent])).toEqual([
      ['2025-11-25T12:00:12.000Z', 30],
      ['2025-11-25T12:00:22.000Z', 40],
    ]);
    expect(() => orchestrator.nodeSamples('ghost')).toThrow('no node with id ghost');
  });

  it('keeps node samples without CPU and disk from an agent that does not report them', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    expect(orchestrator.nodeSamples('node-b')).toEqual([
      { at: '2025-11-25T12:00:00.000Z', cpuPercent: null, memUsedMb: 2192, memTotalMb: 8192, diskUsedMb: null, diskTotalMb: null },
    ]);
  });

  it('turns branch watching on and off for an existing deployment, which the watcher follows', async () => {
    let head = 'a'.repeat(40);
    const orchestrator = await startOrchestrator({ resolveBranchHead: () => Promise.resolve(head), options: { watchIntervalMs: 1000 } });
    await beatBoth();
    workerB.commit = head;
    const deployment = await runningOn(orchestrator, 'node-b');
    const watchRound = async () => {
      clock.advance(1000);
      await orchestrator.tick();
    };

    head = 'b'.repeat(40);
    await watchRound();
    expect(workerB.requests()).toHaveLength(1);

    const changed: boolean[] = [];
    orchestrator.on('deploymentChanged', (d) => changed.push(d.watch));
    await expect(orchestrator.setWatch(deployment.id, true)).resolves.toMatchObject({ watch: true });
    expect(store.deployments.get(deployment.id)?.watch).toBe(true);
    expect(changed).toEqual([true]);
    workerB.commit = head;
    await watchRound();
    await eventually(() => workerB.requests().length === 2 && status(deployment.id) === DeploymentStatus.Running, 5000, 'redeployed', 10);
    expect(orchestrator.counters.watchRedeploys).toBe(1);

    await orchestrator.setWatch(deployment.id, false);
    // unchanged: no event, nothing stored
    await orchestrator.setWatch(deployment.id, false);
    expect(changed.filter((watch) => !watch)).toHaveLength(1);
    head = 'c'.repeat(40);
    await watchRound();
    expect(workerB.requests()).toHaveLength(2);
    await expect(orchestrator.setWatch('ghost', true)).rejects.toThrow('no deployment with id ghost');
  });

  it('stores log lines from the placed node, counts lost batches, and emits them', async () => {
    const orchestrator = await startOrchestrator();
    await beatBoth();
    const deployment = await runningOn(orchestrator, 'node-b');
    const emitted: string[] = [];
    orchestrator.on('logLines', (id, lines) => emitted.push(...lines.map((l) => `${id}#${l.seq}:${l.text}`)));

    await workerB.log(deployment.id, 0, ['listening on 8080']);
    await workerB.log(deployment.id, 3, ['GET /']);
    await workerA.log(deployment.id, 0, ['not placed here']);
    await eventually(() => store.logs.read(deployment.id).length === 2 && broker.stats().published >= 3, 5000, 'logs', 10);
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(store.logs.read(deployment.id).map((l) => l.text)).toEqual(['listening on 8080', 'GET /']);
    expect(store.logs.counters(deployment.id).batchGaps).toBe(2);
    expect(emitted).toEqual([`${deployment.id}#1:listening on 8080`, `${deployment.id}#2:GET /`]);
  });
});
