// Issue 5: "the orchestrator must never forget a deployment". The only worker of a cluster goes
// silent past the dead timeout (frozen with SIGSTOP: its process, connections and app container
// all stay) and then comes back. Nothing else could run its app meanwhile, so the app must end up
// running on it again: it must not be destroyed without anyone cancelling it.
import { ApiClient } from './support/api-client.js';
import { appContainersOf, ownerOf } from './support/docker.js';
import { appRepo } from './support/fixtures.js';
import { Stack, TOKEN } from './support/stack.js';
import { StopWaiting, eventually } from '@kraken/testing';

jest.setTimeout(400_000);

const DEAD_AFTER_MS = 3_000;

interface DeploymentView {
  status: string;
  statusMessage: string | null;
  node: string | null;
  deploymentUrl: string | null;
  statusHistory: { status: string; message: string | null; node: string | null }[];
}

let stack: Stack;
let api: ApiClient;

beforeAll(async () => {
  stack = await Stack.start({ orchestrator: { heartbeatIntervalMs: 500, deadAfterMs: DEAD_AFTER_MS } });
  api = new ApiClient(stack.server.url, TOKEN);
});

afterAll(async () => {
  await api.close();
  await stack.close();
});

function view(id: string): Promise<DeploymentView> {
  return api.getDeployment<DeploymentView>(id, 'status statusMessage node deploymentUrl statusHistory { status message node }');
}

async function nodeState(nodeId: string): Promise<string> {
  const { getNode } = await api.data<{ getNode: { state: string } }>('query ($id: String!) { getNode(nodeId: $id) { state } }', {
    id: nodeId,
  });
  return getNode.state;
}

describe('the only worker, silent past the dead timeout, comes back', () => {
  it('keeps its app: RUNNING on it again with one container, never destroyed', async () => {
    const nodeId = stack.newNodeId('lone-node');
    const worker = await stack.startWorkerProcess(nodeId);
    await eventually(
      async () => (await api.deploymentsAndNodes()).getNodes.some((n) => n.id === nodeId),
      30_000,
      'the worker to report in',
    );
    const id = await api.createDeployment(await appRepo(stack.dir.path, 'e2e-lone-app', 'node', 'e2e lone app'), 'main');
    stack.deploymentIds.add(id);
    await eventually(
      async () => {
        const current = await view(id);
        if (current.status === 'ERRORED') throw new StopWaiting(`ERRORED: ${current.statusMessage ?? ''}`);
        return current.status === 'RUNNING';
      },
      300_000,
      'RUNNING',
      250,
    );

    worker.freeze();
    try {
      await eventually(async () => (await nodeState(nodeId)) === 'DEAD', DEAD_AFTER_MS + 30_000, `${nodeId} DEAD`);
      // with no other node, the app waits for one
      expect(await view(id)).toMatchObject({ status: 'DEPLOYMENT_REQUESTED', node: null });
    } finally {
      worker.thaw();
    }
    await eventually(async () => (await nodeState(nodeId)) === 'ALIVE', 30_000, `${nodeId} ALIVE again`);

    const settled = await eventually(
      async () => {
        const current = await view(id);
        if (['DESTROYED', 'ERRORED'].includes(current.status)) {
          throw new StopWaiting(
            `the app was lost: ${current.status} (${current.statusMessage ?? ''}) without a cancel; history since it went dead: ${JSON.stringify(
              current.statusHistory.slice(
                current.statusHistory.findIndex(
                  (h) => h.node === 'e2e-leader' && h.status === 'DEPLOYMENT_REQUESTED' && h.message !== null,
                ),
              ),
            )}`,
          );
        }
        if (current.status !== 'RUNNING' || current.node !== nodeId) return undefined;
        const [only, ...more] = (await appContainersOf(id)).filter((c) => c.State === 'running');
        return only !== undefined && more.length === 0 && ownerOf(only) === nodeId && current;
      },
      120_000,
      'the app RUNNING on the returned node with one container',
      250,
    );
    expect((await fetch(`${String(settled.deploymentUrl)}/`)).status).toBe(200);
    expect(settled.statusHistory.map((h) => h.status)).not.toContain('DESTRUCTION_REQUESTED');
    expect(settled.statusHistory.map((h) => h.status)).not.toContain('DESTROYED');
  });
});
