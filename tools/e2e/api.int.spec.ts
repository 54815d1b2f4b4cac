// End to end through the API: the original Kraken client's GraphQL operations against an
// orchestrator on RabbitMQ and a real worker on the Docker engine. Then bad input against the same
// stack, with the state compared before and after.
import { Label } from '@kraken/docker-deployer';
import { ApiClient, CREATE_DEPLOYMENT, GET_DEPLOYMENTS, collect } from './support/api-client.js';
import type { Collector, GraphQLResponse, SocketClient } from './support/api-client.js';
import { appContainersOf, ownerOf } from './support/docker.js';
import { appRepo } from './support/fixtures.js';
import { withoutPortRetries } from './support/history.js';
import { Stack, TOKEN } from './support/stack.js';
import { eventually } from '@kraken/testing';

jest.setTimeout(300_000);

interface DeploymentChanged {
  deploymentChanged: {
    id: string;
    status: string;
    statusMessage: string | null;
    node: string | null;
    deploymentUrl: string | null;
  };
}

let stack: Stack;
let api: ApiClient;
let socket: SocketClient;
let nodeId: string;
let deploymentId: string | undefined;
let repo: string;
const timings: Record<string, number> = {};

beforeAll(async () => {
  stack = await Stack.start();
  api = new ApiClient(stack.server.url, TOKEN);
  nodeId = stack.newNodeId('api-node');
  await stack.startWorker(nodeId);
  repo = await appRepo(stack.dir.path, 'e2e-api-app', 'node', 'e2e api app');
  await eventually(
    async () => (await api.deploymentsAndNodes()).getNodes.some((n) => n.id === nodeId),
    30_000,
    'the worker to report in',
  );
});

afterAll(async () => {
  await api.close();
  await stack.close();
  console.info(`e2e api timings (ms): ${JSON.stringify(timings)}`);
});

/** Resolves once the socket delivers heartbeats: the subscriptions sent before it on the socket are set up too. */
async function subscribed(client: SocketClient): Promise<void> {
  const beats = collect<unknown>(client, 'subscription { nodeChanged { id } }');
  try {
    await beats.until((events) => events.length > 0, 'a nodeChanged event', 30_000);
  } finally {
    beats.stop();
  }
}

const statusesOf = (events: DeploymentChanged[], id: string): string[] =>
  events.filter((e) => e.deploymentChanged.id === id).map((e) => e.deploymentChanged.status);

/** Its statuses in order, each once, without attempts cut short by a host port something else holds. */
const lifecycleOf = (events: DeploymentChanged[], id: string): string[] =>
  withoutPortRetries(
    events
      .filter((e) => e.deploymentChanged.id === id)
      .map((e) => ({ status: e.deploymentChanged.status, message: e.deploymentChanged.statusMessage })),
  )
    .map((e) => e.status)
    .filter((s, i, all) => s !== all[i - 1]);

function reached(events: DeploymentChanged[], id: string, status: string): boolean {
  const statuses = statusesOf(events, id);
  if (statuses.includes('ERRORED')) {
    const errored = events.find((e) => e.deploymentChanged.id === id && e.deploymentChanged.status === 'ERRORED');
    throw new Error(`deployment ${id} ERRORED: ${errored?.deploymentChanged.statusMessage ?? '(no message)'}`);
  }
  return statuses.includes(status);
}

function requireDeployment(): string {
  if (deploymentId === undefined) throw new Error('the create test did not run');
  return deploymentId;
}

describe('the original Kraken client against orchestrator + RabbitMQ + worker + Docker', () => {
  let changes: Collector<DeploymentChanged>;

  it('creates a deployment with the original mutation and watches it reach RUNNING over a graphql-ws subscription', async () => {
    socket = api.socket();
    changes = collect<DeploymentChanged>(
      socket,
      'subscription { deploymentChanged { id status statusMessage node deploymentUrl } }',
    );
    await subscribed(socket);

    const started = Date.now();
    const id = await api.createDeployment(repo, 'main');
    stack.deploymentIds.add(id);
    deploymentId = id;
    expect(id).toMatch(/^e2e-api-app-[0-9a-f]{6}$/);

    await changes.until((events) => reached(events, id, 'RUNNING'), `${id} RUNNING`, 240_000);
    timings['createToRunning'] = Date.now() - started;
    // every change in lifecycle order, each reported once (the worker's and the orchestrator's)
    expect(lifecycleOf(changes.events, id)).toEqual([
      'DEPLOYMENT_REQUESTED',
      'DELEGATING_DEPLOYMENT',
      'VALIDATING_DEPLOYMENT_DATA',
      'RETRIEVING_APPLICATION_DATA',
      'BUILDING_DEPLOYMENT',
      'TESTING_DEPLOYMENT',
      'DEPLOYING',
      'RUNNING',
    ]);
  });

  it('lists it with the original getDeployments/getNodes query, and the app answers 200 at its deploymentUrl', async () => {
    const id = requireDeployment();
    const listing = await api.graphql<{ getDeployments: Record<string, unknown>[]; getNodes: Record<string, unknown>[] }>(
      GET_DEPLOYMENTS,
    );
    expect(listing.status).toBe(200);
    expect(listing.errors).toBeUndefined();
    const deployment = listing.data?.getDeployments.find((d) => d['id'] === id);
    expect(deployment).toMatchObject({ id, srcUrl: repo, status: 'RUNNING', node: nodeId });
    expect(deployment?.['deploymentUrl']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const history = deployment?.['statusHistory'] as { status: string; time: number }[];
    // the original query has no messages: they come from getDeployment, in the same order
    const { getDeployment } = await api.data<{ getDeployment: { statusHistory: { status: string; message: string | null }[] } }>(
      'query ($id: String!) { getDeployment(deploymentId: $id) { statusHistory { status message } } }',
      { id },
    );
    expect(getDeployment.statusHistory.map((h) => h.status)).toEqual(history.map((h) => h.status));
    expect(withoutPortRetries(getDeployment.statusHistory).map((h) => h.status)).toEqual([
      'DEPLOYMENT_REQUESTED',
      'DELEGATING_DEPLOYMENT',
      'VALIDATING_DEPLOYMENT_DATA',
      'RETRIEVING_APPLICATION_DATA',
      'BUILDING_DEPLOYMENT',
      'TESTING_DEPLOYMENT',
      'DEPLOYING',
      'RUNNING',
    ]);
    // Unix seconds, in order, recent
    const times = history.map((h) => h.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.abs((times[0] ?? 0) - Date.now() / 1000)).toBeLessThan(600);
    const node = listing.data?.getNodes.find((n) => n['id'] === nodeId);
    expect(typeof node?.['addr']).toBe('string');

    const response = await fetch(`${String(deployment?.['deploymentUrl'])}/from-e2e`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello from e2e api app');

    const containers = await appContainersOf(id);
    expect(containers.map((c) => [ownerOf(c), c.State])).toEqual([[nodeId, 'running']]);
    expect(containers[0]?.Labels[Label.Commit]).toMatch(/^[0-9a-f]{40}$/);
  });

  it('serves its build, test and app output over REST /log/:id and GraphQL logs(...)', async () => {
    const id = requireDeployment();
    // a request of this test's own, logged by the app, forwarded by the worker and stored by the orchestrator
    const url = (await api.deployment(id))?.deploymentUrl;
    expect((await fetch(`${String(url)}/for-the-log`)).status).toBe(200);
    const text = await eventually(
      async () => {
        const response = await api.get(`/log/${id}`);
        const body = response.status === 200 ? await response.text() : '';
        return body.includes('request GET /for-the-log') && body;
      },
      60_000,
      'the app request line in /log',
    );
    expect(text).toMatch(/\[build\] /);
    expect(text).toMatch(/\[test\] fixture tests pass/);
    expect(text).toMatch(/\[stdout\] e2e api app listening on 3000/);

    const page = await api.data<{
      logs: { lines: { seq: number; stream: string; text: string; time: number }[]; next: number; dropped: number };
    }>(
      'query ($id: String!, $after: Int!, $limit: Int!) { logs(deploymentId: $id, after: $after, limit: $limit) { lines { seq stream text time } next dropped } }',
      { id, after: 0, limit: 5000 },
    );
    const { lines } = page.logs;
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(page.logs.next).toBe(lines.at(-1)?.seq);
    expect(page.logs.dropped).toBe(0);
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'stdout', text: 'e2e api app listening on 3000' }));
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'stdout', text: 'request GET /for-the-log' }));
    // REST and GraphQL read the same store: the same lines in the same order
    expect(text.trimEnd().split('\n').length).toBe(lines.length);

    const available = await api.data<{ getAvailableLogs: string[] }>('query { getAvailableLogs }');
    expect(available.getAvailableLogs).toContain(id);
  });

  it('reports stats that came through the broker', async () => {
    const id = requireDeployment();
    const stats = await eventually(
      async () => {
        const { getDeployment } = await api.data<{
          getDeployment: { memMb: number | null; maxMemMb: number | null; size: number | null; cpuUsage: number | null };
        }>('query ($id: String!) { getDeployment(deploymentId: $id) { memMb maxMemMb size cpuUsage } }', { id });
        return getDeployment.size !== null && getDeployment;
      },
      30_000,
      'deploy.stats stored',
    );
    expect(stats.size).toBeGreaterThan(0);
    expect(stats.maxMemMb).toBeGreaterThan(0);
    expect(stats.cpuUsage).toBeGreaterThanOrEqual(0);
  });

  it('cancels it with cancelDeployment: DESTROYED and its container is gone', async () => {
    const id = requireDeployment();
    const started = Date.now();
    const cancelled = await api.data<{ cancelDeployment: string }>(
      'mutation ($id: String!) { cancelDeployment(deploymentId: $id) }',
      { id },
    );
    expect(cancelled.cancelDeployment).toBe(id);
    await changes.until((events) => reached(events, id, 'DESTROYED'), `${id} DESTROYED`, 60_000);
    timings['cancelToDestroyed'] = Date.now() - started;
    const after = statusesOf(changes.events, id);
    // stats updates repeat RUNNING: what matters is what follows the last of them
    expect(after.slice(after.lastIndexOf('RUNNING') + 1).filter((s, i, all) => s !== all[i - 1])).toEqual([
      'DESTRUCTION_REQUESTED',
      'DESTRUCTION_IN_PROGRESS',
      'DESTROYED',
    ]);
    expect(await appContainersOf(id)).toEqual([]);
    const url = (await api.deployment(id))?.deploymentUrl;
    await expect(fetch(`${String(url)}/`)).rejects.toThrow();
    changes.stop();
  });
});

describe('bad input against the real stack gets a clear error and changes no state', () => {
  /** What /export says, minus what moves on its own (heartbeat times, the export time). */
  async function exportedState(): Promise<unknown> {
    const response = await api.get('/export');
    expect(response.status).toBe(200);
    const snapshot = (await response.json()) as {
      epoch: number;
      schemaVersion: number;
      deployments: unknown[];
      nodes: { id: string; state: string }[];
    };
    return {
      epoch: snapshot.epoch,
      schemaVersion: snapshot.schemaVersion,
      deployments: snapshot.deployments,
      nodes: snapshot.nodes.map((n) => [n.id, n.state]),
    };
  }

  async function expectRejected(
    run: () => Promise<GraphQLResponse<unknown>>,
    code: string,
    message: RegExp,
    status: number,
  ): Promise<void> {
    const before = await exportedState();
    const result = await run();
    expect({ status: result.status, code: result.errors?.[0]?.extensions?.code }).toEqual({ status, code });
    expect(result.errors?.[0]?.message).toMatch(message);
    expect(result.data ?? null).toBeNull();
    expect(await exportedState()).toEqual(before);
  }

  beforeAll(() => {
    // the state to protect: the deployment above with its full history and logs
    requireDeployment();
  });

  it('a malformed deployment URL', async () => {
    await expectRejected(
      () => api.graphql(CREATE_DEPLOYMENT, { url: 'not a git remote', gitBranch: 'main' }),
      'INVALID_INPUT',
      /srcUrl: expected a git remote/,
      200,
    );
    await expectRejected(
      () => api.graphql(CREATE_DEPLOYMENT, { url: repo, gitBranch: '../../etc' }),
      'INVALID_INPUT',
      /branch/,
      200,
    );
  });

  it('unknown ids, over GraphQL and REST', async () => {
    await expectRejected(
      () => api.graphql('mutation ($id: String!) { cancelDeployment(deploymentId: $id) }', { id: 'no-such-app' }),
      'NOT_FOUND',
      /no deployment with id no-such-app/,
      200,
    );
    const before = await exportedState();
    const log = await api.get('/log/no-such-app');
    expect(log.status).toBe(404);
    const body = (await log.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('NOT_FOUND');
    expect(body.error.message).toMatch(/no-such-app/);
    expect(await exportedState()).toEqual(before);
  });

  it('a missing token, for a mutation and for /export', async () => {
    await expectRejected(
      () => api.graphql(CREATE_DEPLOYMENT, { url: repo, gitBranch: 'main' }, {}),
      'UNAUTHORIZED',
      /missing token/,
      401,
    );
    const response = await api.get('/export', {});
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
  });

  it('an oversized body, too many fields and a deep query', async () => {
    await expectRejected(
      () => api.graphql(CREATE_DEPLOYMENT, { url: repo, gitBranch: 'main', padding: 'x'.repeat(150 * 1024) }),
      'PAYLOAD_TOO_LARGE',
      /larger than 102400 bytes/,
      413,
    );
    const wide = `query { ${Array.from({ length: 600 }, (_, i) => `f${i}: getDeployments { id }`).join(' ')} }`;
    await expectRejected(() => api.graphql(wide), 'PAYLOAD_TOO_LARGE', /more than 500 fields/, 400);
    const deep = `query { ${'a { '.repeat(11)}b${' }'.repeat(11)} }`;
    await expectRejected(() => api.graphql(deep), 'PAYLOAD_TOO_LARGE', /nested deeper than 10 levels/, 400);
  });
});
