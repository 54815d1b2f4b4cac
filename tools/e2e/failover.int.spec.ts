// Issue 5 acceptance: two workers, one killed; its deployments run on the other within the dead
// timeout plus the deploy time, and no deployment is lost.
import type Docker from 'dockerode';
import { ApiClient } from './support/api-client.js';
import { appContainersOf, docker, ownerOf } from './support/docker.js';
import { appRepo } from './support/fixtures.js';
import { withoutPortRetries } from './support/history.js';
import { Stack, TOKEN } from './support/stack.js';
import type { WorkerChild } from './support/worker-child.js';
import { StopWaiting, eventually } from '@kraken/testing';

jest.setTimeout(600_000);

const HEARTBEAT_MS = 500;
// a build saturating both cores must not make a live worker look dead: 4 missed beats before suspect
const DEAD_AFTER_MS = 8_000;

interface HistoryEntry {
  status: string;
  message: string | null;
  node: string | null;
  time: number;
}
interface DeploymentView {
  id: string;
  status: string;
  statusMessage: string | null;
  node: string | null;
  deploymentUrl: string | null;
  placementReason: string | null;
  statusHistory: HistoryEntry[];
  failover: { node: string; state: string; message: string | null } | null;
}

let stack: Stack;
let api: ApiClient;
/** What the first test leaves for the second: who died, what moved. */
let scene: { moved: DeploymentView; victim: string; survivor: string; victimContainerId: string } | undefined;
const timings: Record<string, number> = {};

beforeAll(async () => {
  stack = await Stack.start({
    orchestrator: { heartbeatIntervalMs: HEARTBEAT_MS, missedBeatsBeforeSuspect: 4, deadAfterMs: DEAD_AFTER_MS },
  });
  api = new ApiClient(stack.server.url, TOKEN);
});

afterAll(async () => {
  await api.close();
  await stack.close();
  console.info(`e2e failover timings (ms): ${JSON.stringify(timings)}`);
});

async function view(id: string): Promise<DeploymentView> {
  const { getDeployment } = await api.data<{ getDeployment: DeploymentView }>(
    'query ($id: String!) { getDeployment(deploymentId: $id) { id status statusMessage node deploymentUrl placementReason statusHistory { status message node time } failover { node state message } } }',
    { id },
  );
  return getDeployment;
}

async function nodeState(nodeId: string): Promise<string> {
  const { getNode } = await api.data<{ getNode: { state: string } }>('query ($id: String!) { getNode(nodeId: $id) { state } }', {
    id: nodeId,
  });
  return getNode.state;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The dead "machine" shares this engine, so its container stays here, holding its host port. On
 * its own machine it would not hold this engine's port; cutting it from its networks makes that so
 * here (container names already differ per node), while it keeps running with its labels. Without
 * this the survivor finds the port taken and the orchestrator moves the app to another port.
 */
async function isolate(info: Docker.ContainerInfo): Promise<void> {
  for (const network of Object.keys(info.NetworkSettings.Networks))
    await docker.getNetwork(network).disconnect({ Container: info.Id });
}

/** Waits for RUNNING on `nodeId` (any node when undefined); ERRORED ends the wait with its reason. */
function runningOn(id: string, nodeId: string | undefined, timeoutMs: number): Promise<DeploymentView> {
  return eventually(
    async () => {
      const current = await view(id);
      if (current.status === 'ERRORED') throw new StopWaiting(`${id} ERRORED: ${current.statusMessage ?? '(no message)'}`);
      return current.status === 'RUNNING' && (nodeId === undefined || current.node === nodeId) && current;
    },
    timeoutMs,
    `${id} RUNNING${nodeId === undefined ? '' : ` on ${nodeId}`}`,
    250,
  );
}

describe('two workers on one engine, one of them killed', () => {
  it("moves the dead worker's deployments to the live one: every deployment RUNNING, one live container each", async () => {
    const nodeA = stack.newNodeId('node-a');
    const nodeB = stack.newNodeId('node-b');
    const children = new Map<string, WorkerChild>([
      [nodeA, await stack.startWorkerProcess(nodeA)],
      [nodeB, await stack.startWorkerProcess(nodeB)],
    ]);
    await eventually(
      async () => {
        const ids = (await api.deploymentsAndNodes()).getNodes.map((n) => n.id);
        return ids.includes(nodeA) && ids.includes(nodeB);
      },
      30_000,
      'both workers to report in',
    );

    const ids: string[] = [];
    for (const name of ['e2e-failover-one', 'e2e-failover-two']) {
      const id = await api.createDeployment(await appRepo(stack.dir.path, name, 'node', name), 'main');
      stack.deploymentIds.add(id);
      ids.push(id);
    }
    const deployStarted = Date.now();
    const placed = await Promise.all(ids.map((id) => runningOn(id, undefined, 300_000)));
    timings['firstDeploysToRunning'] = Date.now() - deployStarted;
    // equal nodes: the scheduler spreads the two apps, one on each
    expect(new Set(placed.map((d) => d.node))).toEqual(new Set([nodeA, nodeB]));
    for (const deployment of placed) expect((await fetch(`${String(deployment.deploymentUrl)}/`)).status).toBe(200);

    const [moved, stayed] = placed as [DeploymentView, DeploymentView];
    const victim = moved.node ?? '';
    const survivor = stayed.node ?? '';
    const [victimContainer] = await appContainersOf(moved.id);
    if (victimContainer === undefined) throw new Error(`no container for ${moved.id}`);
    // the survivor builds the victim's app in the background (its failover build), so the move is a start
    const buildAskedAt = Date.now();
    await eventually(
      async () => {
        const { failover } = await view(moved.id);
        if (failover?.state === 'failed') throw new StopWaiting(`the failover build failed on ${failover.node}: ${String(failover.message)}`);
        return failover?.state === 'ready' && failover.node === survivor;
      },
      300_000,
      `a ready failover build of ${moved.id} on ${survivor}`,
      250,
    );
    timings['runningToFailoverBuildReady'] = Date.now() - buildAskedAt;

    await children.get(victim)?.crash();
    const killedAt = Date.now();
    await isolate(victimContainer);

    await eventually(async () => (await nodeState(victim)) === 'DEAD', DEAD_AFTER_MS + 30_000, `${victim} DEAD`, 100);
    const deadAt = Date.now();
    timings['killToDead'] = deadAt - killedAt;

    const after = await runningOn(moved.id, survivor, 300_000);
    timings['deadToRunningElsewhere'] = Date.now() - deadAt;
    timings['killToRunningElsewhere'] = Date.now() - killedAt;

    // re-placed once the node was found dead, then started once on the survivor from its failover
    // build (no clone, build or test), with no wait and no retry in between (the times are printed,
    // not asserted: this machine is shared and noisy)
    const history = after.statusHistory;
    const lastOnVictim = history.findIndex((h) => h.status === 'RUNNING' && h.node === victim);
    const move = withoutPortRetries(history.slice(lastOnVictim + 1));
    expect(move.map((h) => [h.status, h.node])).toEqual([
      ['DELEGATING_DEPLOYMENT', 'e2e-leader'],
      ['VALIDATING_DEPLOYMENT_DATA', survivor],
      ['DEPLOYING', survivor],
      ['RUNNING', survivor],
    ]);
    expect(move.at(-1)?.message).toMatch(/^running the kept build of [0-9a-f]{7}; nothing was rebuilt/);
    const replacedAfterMs = (move[0]?.time ?? 0) * 1000 - killedAt;
    timings['killToReplaced'] = Math.round(replacedAfterMs);

    // no deployment lost: both RUNNING on the live node, the moved one on its old port
    const listing = await api.deploymentsAndNodes();
    expect(listing.getDeployments.filter((d) => ids.includes(d.id)).map((d) => [d.id, d.status, d.node])).toEqual(
      ids.map((id) => [id, 'RUNNING', survivor]),
    );
    expect(after.deploymentUrl).toBe(moved.deploymentUrl);
    expect(after.placementReason).toMatch(
      new RegExp(`^${escape(victim)} sent no heartbeat for [\\d.]+ s \\(it usually beats every [\\d.]+ s ± [\\d.]+ s\\); ${escape(survivor)}: holds a ready build of it \\(its failover node\\)`),
    );
    for (const deployment of [after, stayed]) expect((await fetch(`${String(deployment.deploymentUrl)}/`)).status).toBe(200);

    // exactly one running container per deployment owned by a live node; the dead node's copy is
    // still on the shared engine, labelled with the dead node
    for (const id of ids) {
      const owners = (await appContainersOf(id)).filter((c) => c.State === 'running').map((c) => ownerOf(c));
      expect(owners.filter((owner) => owner === survivor)).toHaveLength(1);
      expect(owners.filter((owner) => owner !== survivor && owner !== victim)).toEqual([]);
    }
    expect((await appContainersOf(moved.id)).map((c) => [c.Id, ownerOf(c), c.State])).toContainEqual([
      victimContainer.Id,
      victim,
      'running',
    ]);
    expect(await nodeState(survivor)).toBe('ALIVE');
    scene = { moved: after, victim, survivor, victimContainerId: victimContainer.Id };
  });

  it('when the dead worker comes back, it is told to stop what moved away, and the moved app keeps running', async () => {
    if (scene === undefined) throw new Error('the failover test did not get as far as the move');
    const { moved, victim, survivor, victimContainerId } = scene;
    const returned = await stack.startWorkerProcess(victim);
    // it finds its old container still running and takes it over, as after any restart...
    expect(returned.reconciled()).toEqual([moved.id]);
    await eventually(async () => (await nodeState(victim)) === 'ALIVE', 30_000, `${victim} ALIVE again`);
    // ...then the orchestrator's deploy.stop removes it
    await eventually(
      async () => !(await appContainersOf(moved.id)).some((c) => c.Id === victimContainerId),
      60_000,
      "the returned node's stale container removed",
    );

    const current = await view(moved.id);
    expect([current.status, current.node]).toEqual(['RUNNING', survivor]);
    // what the returned node reported about a deployment no longer placed on it was rejected
    expect(current.statusHistory.filter((h) => h.node === victim).map((h) => h.status)).toEqual(
      moved.statusHistory.filter((h) => h.node === victim).map((h) => h.status),
    );
    expect((await appContainersOf(moved.id)).map((c) => [ownerOf(c), c.State])).toEqual([[survivor, 'running']]);
    expect((await fetch(`${String(current.deploymentUrl)}/`)).status).toBe(200);
  });
});
