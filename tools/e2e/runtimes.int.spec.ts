// Issue 4's language coverage end to end: a python app, a static site and an app with its own
// Dockerfile go through the orchestrator and RabbitMQ to a real worker on the Docker engine; each
// answers HTTP 200, and its logs and stats come back through the broker into the orchestrator.
import { ApiClient } from './support/api-client.js';
import { appContainersOf, ownerOf } from './support/docker.js';
import type { AppKind } from './support/fixtures.js';
import { appRepo } from './support/fixtures.js';
import { Stack, TOKEN } from './support/stack.js';
import { StopWaiting, eventually } from '@kraken/testing';

jest.setTimeout(400_000);

interface DeploymentView {
  status: string;
  statusMessage: string | null;
  deploymentUrl: string | null;
  node: string | null;
  commit: string | null;
  size: number | null;
  maxMemMb: number | null;
}

let stack: Stack;
let api: ApiClient;
let nodeId: string;
const timings: Record<string, number> = {};

beforeAll(async () => {
  stack = await Stack.start();
  api = new ApiClient(stack.server.url, TOKEN);
  nodeId = stack.newNodeId('lang-node');
  await stack.startWorker(nodeId);
  await eventually(
    async () => (await api.deploymentsAndNodes()).getNodes.some((n) => n.id === nodeId),
    30_000,
    'the worker to report in',
  );
});

afterAll(async () => {
  await api.close();
  await stack.close();
  console.info(`e2e runtimes timings (ms): ${JSON.stringify(timings)}`);
});

async function view(id: string): Promise<DeploymentView> {
  const { getDeployment } = await api.data<{ getDeployment: DeploymentView }>(
    'query ($id: String!) { getDeployment(deploymentId: $id) { status statusMessage deploymentUrl node commit size maxMemMb } }',
    { id },
  );
  return getDeployment;
}

async function logText(id: string): Promise<string> {
  const response = await api.get(`/log/${id}`);
  return response.status === 200 ? response.text() : '';
}

/**
 * Deploys `kind` through the API, checks it answers 200 with `expectedBody` at its deploymentUrl,
 * that the lines `expectedLog` match came through the broker, and that stats did; then cancels it
 * and checks its container is gone.
 */
async function deployAndCheck(kind: AppKind, expectedBody: string, expectedLog: RegExp[]): Promise<void> {
  const marker = `e2e ${kind} app`;
  const repo = await appRepo(stack.dir.path, `e2e-${kind}`, kind, marker);
  const started = Date.now();
  const id = await api.createDeployment(repo, 'main');
  stack.deploymentIds.add(id);

  const running = await eventually(
    async () => {
      const current = await view(id);
      if (current.status === 'ERRORED')
        throw new StopWaiting(`the ${kind} app ERRORED: ${current.statusMessage ?? '(no message)'}`);
      return current.status === 'RUNNING' && current;
    },
    300_000,
    `the ${kind} app RUNNING`,
    250,
  );
  timings[`${kind}CreateToRunning`] = Date.now() - started;
  expect(running.node).toBe(nodeId);
  expect(running.commit).toMatch(/^[0-9a-f]{40}$/);
  expect(running.deploymentUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

  const response = await fetch(`${String(running.deploymentUrl)}/`);
  expect(response.status).toBe(200);
  expect(await response.text()).toContain(expectedBody);

  const log = await eventually(
    async () => {
      const text = await logText(id);
      return expectedLog.every((pattern) => pattern.test(text)) && text;
    },
    60_000,
    `the ${kind} app's log lines`,
  );
  expect(log).toMatch(/\[build\] /);

  const withStats = await eventually(
    async () => {
      const current = await view(id);
      return current.size !== null && current.maxMemMb !== null && current;
    },
    30_000,
    `stats of the ${kind} app`,
  );
  expect(withStats.size).toBeGreaterThan(0);
  expect(withStats.maxMemMb).toBeGreaterThanOrEqual(0);
  const stored = stack.store.deployments.get(id);
  expect(stored?.memMb).toBeGreaterThan(0);
  expect(stored?.imageSizeMb).toBeGreaterThan(0);

  const containers = await appContainersOf(id);
  expect(containers.map((c) => [ownerOf(c), c.State])).toEqual([[nodeId, 'running']]);

  await api.data('mutation ($id: String!) { cancelDeployment(deploymentId: $id) }', { id });
  await eventually(async () => (await view(id)).status === 'DESTROYED', 60_000, `the ${kind} app DESTROYED`);
  expect(await appContainersOf(id)).toEqual([]);
}

describe('languages through orchestrator, RabbitMQ, worker and Docker', () => {
  it('deploys a python3 app (original manifest spelling: empty test, [env-vars]) that answers 200, with logs and stats', async () => {
    await deployAndCheck('python', 'hello from e2e python app', [
      /\[stdout\] e2e python app listening on 8000/,
      /\[stdout\] request GET \//,
    ]);
  });

  it('deploys a static site that answers 200, with logs and stats', async () => {
    // busybox httpd -v logs each request on stderr
    await deployAndCheck('static', '<h1>hello from e2e static app</h1>', [/\[stderr\] \S+: response:200/]);
  });

  it("deploys an app from the repository's own Dockerfile that answers 200, with logs and stats", async () => {
    await deployAndCheck('custom', 'hello from e2e custom app', [
      /\[stdout\] e2e custom app listening on 8080/,
      /\[stdout\] request GET \//,
    ]);
  });
});
