// Issue 4 acceptance: kill -9 the worker process while its app runs, start it again with the same
// node id: it finds the running container, reports it Running, and nothing is deployed twice.
import { ApiClient } from './support/api-client.js';
import { appContainersOf, docker, ownerOf } from './support/docker.js';
import { appRepo } from './support/fixtures.js';
import { withoutPortRetries } from './support/history.js';
import { Stack, TOKEN } from './support/stack.js';
import type { WorkerChild } from './support/worker-child.js';
import { StopWaiting, eventually } from '@kraken/testing';

jest.setTimeout(400_000);

interface HistoryEntry {
  status: string;
  message: string | null;
  node: string | null;
}
interface DeploymentView {
  status: string;
  statusMessage: string | null;
  node: string | null;
  deploymentUrl: string | null;
  statusHistory: HistoryEntry[];
}

let stack: Stack;
let api: ApiClient;
let nodeId: string;
const timings: Record<string, number> = {};

beforeAll(async () => {
  // a restart takes seconds; the node may turn suspect meanwhile but must not be declared dead
  // (that would move its app, which is the failover test's business). Its broker connection closes
  // with the killed agent, so the failure detector alone decides: give it a minute of patience.
  stack = await Stack.start({ orchestrator: { heartbeatIntervalMs: 500, acceptablePauseMs: 60_000, deadAfterMs: 60_000 } });
  api = new ApiClient(stack.server.url, TOKEN);
  nodeId = stack.newNodeId('restart-node');
});

afterAll(async () => {
  await api.close();
  await stack.close();
  console.info(`e2e worker restart timings (ms): ${JSON.stringify(timings)}`);
});

async function view(id: string): Promise<DeploymentView> {
  const { getDeployment } = await api.data<{ getDeployment: DeploymentView }>(
    'query ($id: String!) { getDeployment(deploymentId: $id) { status statusMessage node deploymentUrl statusHistory { status message node } } }',
    { id },
  );
  return getDeployment;
}

describe('a worker process killed with SIGKILL and started again on the same node', () => {
  it('takes over its running container: reported RUNNING again, one container, no rebuild, logs resume', async () => {
    const first: WorkerChild = await stack.startWorkerProcess(nodeId);
    expect(first.reconciled()).toEqual([]);
    await eventually(
      async () => (await api.deploymentsAndNodes()).getNodes.some((n) => n.id === nodeId),
      30_000,
      'the worker to report in',
    );

    const repo = await appRepo(stack.dir.path, 'e2e-restart-app', 'node', 'e2e restart app');
    const id = await api.createDeployment(repo, 'main');
    stack.deploymentIds.add(id);
    const running = await eventually(
      async () => {
        const current = await view(id);
        if (current.status === 'ERRORED') throw new StopWaiting(`ERRORED: ${current.statusMessage ?? ''}`);
        return current.status === 'RUNNING' && current;
      },
      300_000,
      'RUNNING',
      250,
    );
    const [container] = await appContainersOf(id);
    if (container === undefined) throw new Error(`no container for ${id}`);
    expect((await fetch(`${String(running.deploymentUrl)}/before-crash`)).status).toBe(200);

    await first.crash();
    const crashedAt = Date.now();
    // the container outlives its agent
    expect((await docker.getContainer(container.Id).inspect()).State.Running).toBe(true);
    const historyBefore = (await view(id)).statusHistory.length;

    const second = await stack.startWorkerProcess(nodeId);
    expect(second.pid).not.toBe(first.pid);
    expect(second.reconciled()).toEqual([id]);

    const after = await eventually(
      async () => {
        const current = await view(id);
        return current.statusHistory.length > historyBefore && current;
      },
      30_000,
      'a status from the restarted worker',
    );
    timings['crashToReportedRunning'] = Date.now() - crashedAt;
    expect(after.status).toBe('RUNNING');
    expect(after.node).toBe(nodeId);
    expect(after.deploymentUrl).toBe(running.deploymentUrl);
    expect(after.statusHistory.slice(historyBefore)).toEqual([
      { status: 'RUNNING', message: 'found running after a worker restart', node: nodeId },
    ]);
    // placed, built and started once: the restart redeployed nothing
    const count = (status: string): number => withoutPortRetries(after.statusHistory).filter((h) => h.status === status).length;
    expect([count('DELEGATING_DEPLOYMENT'), count('BUILDING_DEPLOYMENT'), count('DEPLOYING')]).toEqual([1, 1, 1]);

    const containers = await appContainersOf(id);
    expect(containers.map((c) => [c.Id, ownerOf(c), c.State])).toEqual([[container.Id, nodeId, 'running']]);
    const { getNode } = await api.data<{ getNode: { state: string; deployments: string[] } }>(
      'query ($id: String!) { getNode(nodeId: $id) { state deployments } }',
      { id: nodeId },
    );
    expect(getNode.state).toBe('ALIVE');
    await eventually(
      async () => {
        const { getNode: node } = await api.data<{ getNode: { deployments: string[] } }>(
          'query ($id: String!) { getNode(nodeId: $id) { deployments } }',
          { id: nodeId },
        );
        return node.deployments.includes(id);
      },
      10_000,
      'the restarted worker to list the deployment in its heartbeat',
    );

    // the new process follows the container's logs
    expect((await fetch(`${String(after.deploymentUrl)}/after-restart`)).status).toBe(200);
    await eventually(
      async () => (await (await api.get(`/log/${id}`)).text()).includes('[stdout] request GET /after-restart'),
      30_000,
      'the request after the restart in the log',
    );

    // and it still controls it
    await api.data('mutation ($id: String!) { cancelDeployment(deploymentId: $id) }', { id });
    await eventually(async () => (await view(id)).status === 'DESTROYED', 60_000, 'DESTROYED');
    expect(await appContainersOf(id)).toEqual([]);
  });
});
