// A host port the orchestrator hands out can be taken on the node by something Kraken does not know:
// another Kraken's app on this machine, any other program (several of them: issue 16 found the deploy
// Errored after three). Deploying must still end with the app running and answering on another
// port, a history that says why it moved, and its log arriving, exactly as on a machine where
// nothing else runs.
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { StopWaiting, eventually } from '@kraken/testing';
import { ApiClient } from './support/api-client.js';
import { appRepo } from './support/fixtures.js';
import { Stack, TOKEN } from './support/stack.js';

jest.setTimeout(300_000);

interface DeploymentDetail {
  status: string;
  statusMessage: string | null;
  port: string | null;
  deploymentUrl: string | null;
  placementReason: string | null;
  statusHistory: { status: string; message: string | null }[];
}

let stack: Stack;
let api: ApiClient;
let nodeId: string;
let repo: string;
let blockers: Server[];
let taken: number[];

beforeAll(async () => {
  stack = await Stack.start();
  api = new ApiClient(stack.server.url, TOKEN);
  nodeId = stack.newNodeId('port-node');
  await stack.startWorker(nodeId);
  repo = await appRepo(stack.dir.path, 'e2e-port-app', 'node', 'e2e port app');
  // the first four ports the orchestrator hands out (as 20000-20003 on a busy machine), taken on
  // every address as a container's published port would be
  taken = [0, 1, 2, 3].map((offset) => stack.portRange.min + offset);
  blockers = taken.map((port) => createServer().listen(port, '0.0.0.0'));
  await Promise.all(blockers.map((blocker) => once(blocker, 'listening')));
  await eventually(async () => (await api.deploymentsAndNodes()).getNodes.some((n) => n.id === nodeId), 30_000, 'the worker to report in');
});

afterAll(async () => {
  for (const blocker of blockers) blocker.close();
  await api.close();
  await stack.close();
});

describe('a host port taken on the node by something Kraken does not know', () => {
  it('moves the app to another port: it runs and answers, the history says why, and its log arrives', async () => {
    const id = await api.createDeployment(repo, 'main');
    stack.deploymentIds.add(id);
    const detail = async () =>
      (
        await api.data<{ getDeployment: DeploymentDetail }>(
          'query ($id: String!) { getDeployment(deploymentId: $id) { status statusMessage port deploymentUrl placementReason statusHistory { status message } } }',
          { id },
        )
      ).getDeployment;

    const running = await eventually(
      async () => {
        const deployment = await detail();
        if (deployment.status === 'ERRORED') throw new StopWaiting(`${id} ERRORED: ${deployment.statusMessage ?? '(no message)'}`);
        return deployment.status === 'RUNNING' && deployment;
      },
      240_000,
      `${id} RUNNING`,
    );

    expect(taken).not.toContain(Number(running.port));
    const response = await fetch(`${String(running.deploymentUrl)}/after-the-move`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello from e2e port app');

    // placed once per taken port and once more, each time with the reason, which the history keeps
    const delegations = running.statusHistory.filter((entry) => entry.status === 'DELEGATING_DEPLOYMENT');
    expect(delegations).toHaveLength(taken.length + 1);
    const why = (port: number | undefined) => `host port ${String(port)} is taken on ${nodeId}`;
    taken.forEach((port, i) => {
      expect(delegations[i + 1]?.message).toContain(why(port));
    });
    expect(running.placementReason).toContain(why(taken.at(-1)));
    expect(running.statusHistory.at(-1)?.status).toBe('RUNNING');

    const log = await eventually(
      async () => {
        const answer = await api.get(`/log/${id}`);
        const body = answer.status === 200 ? await answer.text() : '';
        return body.includes('request GET /after-the-move') && body;
      },
      60_000,
      'the request line of the moved app in /log',
    );
    expect(log).toMatch(/\[stdout\] e2e port app listening on 3000/);
  });
});
