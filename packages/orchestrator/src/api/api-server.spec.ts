import { MemoryBroker } from '@kraken/broker';
import { ErrorCode, KrakenError, MemoryLogger } from '@kraken/common';
import { DeploymentStatus, MessageType, createMessage, parseJoinAnswer } from '@kraken/messages';
import type { NodeInfoExtensions } from '@kraken/messages';
import { eventually, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { createClient } from 'graphql-ws';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { FakeWorker } from '../../test/fake-worker.js';
import { nodeInfo } from '../../test/fixtures.js';
import { compileOrchestratorOptions } from '../options.js';
import { Orchestrator } from '../orchestrator.js';
import { OrchestratorStore } from '../store/orchestrator-store.js';
import type { ApiServer, ListeningApi } from './api-server.js';
import { createApiServer } from './api-server.js';
import { protocolMismatch } from './join.js';
import type { ResolveBranchHead } from '../git/git-head.js';
import { DataKey } from '../data-key.js';

/** The cluster's data key in these tests (one for all stores: copies apply each other's sealed values). */
const dataKey = DataKey.generate('the test data key');

const TOKEN = 'test-token-0123456789';
const SRC = 'https://git.home.lan/alice/todo-api.git';
const queues = compileOrchestratorOptions().queues;

// The original Kraken client's operations, verbatim.
const CREATE_DEPLOYMENT = `
  mutation CreateDeployment($url: String!, $gitBranch: String!) {
    createDeployment(deploymentUrl: $url, gitBranch: $gitBranch)
  }
`;
const GET_DEPLOYMENTS = `query { getDeployments { id srcUrl status statusHistory { status time } deploymentUrl node } getNodes { id addr } }`;
const CANCEL_DEPLOYMENT = `
  mutation CancelDeployment($id: String!) {
    cancelDeployment(deploymentId: $id)
  }
`;

interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; [key: string]: unknown } }[];
}

let dir: TempDir;
let broker: MemoryBroker;
let store: OrchestratorStore;
let orchestrator: Orchestrator;
let worker: FakeWorker;
let logger: MemoryLogger;
let api: ApiServer;
let server: ListeningApi;
let branchHead: ResolveBranchHead;
const wsClients: Client[] = [];

async function graphql<T = Record<string, unknown>>(
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse<T>, 'status'>) };
}

async function get(path: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers, redirect: 'manual' });
}

async function create(url = SRC, gitBranch = 'main'): Promise<string> {
  const result = await graphql<{ createDeployment: string }>(CREATE_DEPLOYMENT, { url, gitBranch });
  expect(result.errors).toBeUndefined();
  return result.data?.createDeployment ?? '';
}

function wsClient(authorization: string | null = `Bearer ${TOKEN}`): Client {
  const client = createClient({
    url: server.url.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: authorization === null ? {} : { authorization },
    retryAttempts: 0,
    lazy: true,
  });
  wsClients.push(client);
  return client;
}

/** Collects a subscription's events until `until` holds for them. */
function subscribeUntil<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  until: (events: T[]) => boolean,
): Promise<T[]> {
  const events: T[] = [];
  return new Promise((resolve, reject) => {
    const dispose = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors !== undefined) {
            reject(new Error(JSON.stringify(value.errors)));
            return;
          }
          events.push(value.data as T);
          if (until(events)) {
            dispose();
            resolve(events);
          }
        },
        error: (error: unknown) => {
          // graphql-ws reports GraphQL errors as an array, a refused socket as its CloseEvent
          if (error instanceof Error) reject(error);
          else if (Array.isArray(error)) reject(new Error(JSON.stringify(error)));
          else {
            const { code, reason } = error as { code?: number; reason?: string };
            reject(Object.assign(new Error(`socket closed: ${String(code)} ${String(reason)}`), { code, reason }));
          }
        },
        complete: () => {
          resolve(events);
        },
      },
    );
  });
}

/**
 * Resolves once `client` delivers node heartbeats, which means the server has set up the
 * subscriptions sent before on the same socket (there is no acknowledgement per subscription).
 */
async function subscribed(client: Client): Promise<void> {
  const heartbeats = setInterval(() => {
    worker.beat().catch(() => undefined);
  }, 20);
  try {
    await subscribeUntil(client, 'subscription { nodeChanged { id } }', {}, (events) => events.length > 0);
  } finally {
    clearInterval(heartbeats);
  }
}

/** Everything the API could change, to show that rejected requests changed nothing. */
function storeState(): unknown {
  return store.snapshot(() => ({
    deployments: store.deployments.list().map((d) => ({ ...d, history: store.deployments.history(d.id) })),
    nodes: store.nodes.list().map((n) => n.id),
    logs: store.deployments.list().map((d) => store.logs.read(d.id)),
  }));
}

beforeEach(async () => {
  dir = await tempDir('kraken-api-');
  broker = new MemoryBroker();
  logger = new MemoryLogger();
  store = OrchestratorStore.open({ dataKey, dataDir: dir.path });
  orchestrator = await Orchestrator.create({ broker, store, nodeId: 'leader', logger, options: { tickIntervalMs: 0 } });
  worker = await FakeWorker.start({ broker, nodeId: 'node-a', queues });
  await worker.beat();
  await eventually(() => store.nodes.get('node-a'), 5000, 'node-a heartbeat', 10);
  branchHead = () => Promise.resolve(undefined);
  api = await createApiServer({
    orchestrator,
    store,
    token: TOKEN,
    logger,
    resolveBranchHead: (url, branch) => branchHead(url, branch),
    platformServices: () => [{ name: 'broker', status: 'down', detail: 'RabbitMQ at 10.0.0.5 is not answering' }],
  });
  server = await api.listen(0, '127.0.0.1');
});

afterEach(async () => {
  for (const client of wsClients.splice(0)) await client.dispose();
  await api.close();
  await worker.stop();
  await orchestrator.close();
  await broker.close();
  store.close();
  await dir.remove();
});

describe('GraphQL API, as the original Kraken client uses it', () => {
  it('creates a deployment with the original mutation and lists it with the original query', async () => {
    const id = await create();
    expect(id).toMatch(/^todo-api-[0-9a-f]{6}$/);
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);

    const result = await graphql<{
      getDeployments: {
        id: string;
        srcUrl: string;
        status: string;
        statusHistory: { status: string; time: number }[];
        node: string;
      }[];
      getNodes: { id: string; addr: string }[];
    }>(GET_DEPLOYMENTS);

    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    const [deployment] = result.data?.getDeployments ?? [];
    expect(deployment).toMatchObject({ id, srcUrl: SRC, status: 'RUNNING', node: 'node-a', deploymentUrl: null });
    expect(deployment?.statusHistory.map((h) => h.status)).toEqual([
      'DEPLOYMENT_REQUESTED',
      'DELEGATING_DEPLOYMENT',
      'BUILDING_DEPLOYMENT',
      'TESTING_DEPLOYMENT',
      'DEPLOYING',
      'RUNNING',
    ]);
    const time = deployment?.statusHistory[0]?.time ?? 0;
    expect(Math.abs(time - Date.now() / 1000)).toBeLessThan(60);
    expect(result.data?.getNodes).toEqual([{ id: 'node-a', addr: '192.168.1.10' }]);
  });

  it('accepts the original client\'s "Authorization: token ..." header', async () => {
    const result = await graphql(GET_DEPLOYMENTS, {}, { authorization: `token ${TOKEN}` });
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
  });

  it('cancels a deployment and returns its id', async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    const result = await graphql<{ cancelDeployment: string }>(CANCEL_DEPLOYMENT, { id });
    expect(result.data?.cancelDeployment).toBe(id);
    expect(store.deployments.get(id)?.status).toBe(DeploymentStatus.DestructionRequested);
    await eventually(() => worker.ofType('deploy.cancel').some((m) => m.body.deploymentId === id), 5000, 'deploy.cancel', 10);
  });

  it('removes an Errored deployment from the lists, keeps it and its log readable by id, and refuses a running one', async () => {
    const REMOVE = 'mutation ($id: String!) { removeDeployment(deploymentId: $id) { id status removedAt } }';
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    const refused = await graphql(REMOVE, { id });
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT' } });
    expect(refused.errors?.[0]?.message).toMatch(/is Running: only a Destroyed or Errored deployment can be removed; cancel it first/);
    expect(store.deployments.get(id)?.removedAt).toBeNull();
    store.deployments.setStatus(id, DeploymentStatus.Errored, { message: 'crash loop' });
    store.logs.append(id, [{ stream: 'stdout', text: 'last words', at: '2025-11-25T12:00:00.000Z' }]);
    const removed = await graphql<{ removeDeployment: { id: string; status: string; removedAt: number | null } }>(REMOVE, { id });
    expect(removed.data?.removeDeployment).toMatchObject({ id, status: 'ERRORED' });
    expect(removed.data?.removeDeployment.removedAt).toEqual(expect.any(Number));
    const listed = await graphql<{ getDeployments: { id: string }[]; getPlatform: { deployments: { id: string }[] } }>(
      'query { getDeployments { id } getPlatform { deployments { id } } }',
    );
    expect(listed.data).toEqual({ getDeployments: [], getPlatform: { deployments: [] } });
    const byId = await graphql<{ getDeployment: { removedAt: number | null } }>(`query { getDeployment(deploymentId: "${id}") { removedAt } }`);
    expect(byId.data?.getDeployment.removedAt).toBe(removed.data?.removeDeployment.removedAt);
    await expect((await get(`/log/${id}`)).text()).resolves.toMatch(/\[stdout\] last words/);
  });

  it('keeps env values secret and records watch and the placement reason', async () => {
    const result = await graphql<{ createDeployment: string }>(
      `
        mutation ($url: String!) {
          createDeployment(deploymentUrl: $url, env: [{ name: "DB_URL", value: "postgres://secret" }], watch: true)
        }
      `,
      { url: SRC },
    );
    const id = result.data?.createDeployment ?? '';
    expect(store.deployments.get(id)?.env).toEqual({ DB_URL: 'postgres://secret' });
    const read = await graphql<{ getDeployment: Record<string, unknown> }>(
      `
        query ($id: String!) {
          getDeployment(deploymentId: $id) {
            gitBranch
            env {
              name
              value
            }
            watch
            placementReason
            resultsUrl
          }
        }
      `,
      { id },
    );
    expect(read.data?.getDeployment).toMatchObject({
      gitBranch: 'main',
      env: [{ name: 'DB_URL', value: '***' }],
      watch: true,
      resultsUrl: `/log/${id}`,
    });
    expect(read.data?.getDeployment.placementReason).toEqual(expect.stringContaining('node-a'));
    expect(JSON.stringify(await (await get('/export')).json())).not.toContain('postgres://secret');
  });

  it("shows a running app's restarts as a worker reports them, keeps them when an older worker's status has none, and on ERRORED", async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === 'Running', 5000, 'RUNNING', 10);
    const query = `query ($id: String!) { getDeployment(deploymentId: $id) { status statusMessage crashLooping restartCount lastExit { code signal time reason } } }`;
    const read = async () => (await graphql<{ getDeployment: Record<string, unknown> }>(query, { id })).data?.getDeployment;
    expect(await read()).toMatchObject({ crashLooping: false, restartCount: 0, lastExit: null });

    const lastExit = { code: 1, at: '2026-12-06T12:00:03.250Z', reason: 'exited with code 1 after 3.0 s' };
    await worker.report(id, 'Running', { message: 'crash-looping: restarted (restart 2)', restarts: { count: 2, looping: true, lastExit } });
    await eventually(() => store.deployments.get(id)?.restarts?.count === 2, 5000, 'the restarts stored', 10);
    const looping = { status: 'RUNNING', crashLooping: true, restartCount: 2, lastExit: { code: 1, signal: null, time: Date.parse(lastExit.at) / 1000, reason: 'exited with code 1 after 3.0 s' } };
    expect(await read()).toMatchObject(looping);

    await worker.report(id, 'Running', { message: 'from an older worker' });
    await eventually(() => store.deployments.get(id)?.statusMessage === 'from an older worker', 5000, 'the older status', 10);
    expect(await read()).toMatchObject(looping);

    await worker.report(id, 'Errored', { message: 'crash loop: ...; stopped it', errorCode: 'CRASH_LOOP', restarts: { count: 3, looping: true, lastExit } });
    await eventually(() => store.deployments.get(id)?.status === 'Errored', 5000, 'ERRORED', 10);
    expect(await read()).toMatchObject({ status: 'ERRORED', statusMessage: 'crash loop: ...; stopped it', crashLooping: true, restartCount: 3 });
  });

  it('shows a running app that stops answering as not ready since its last answer, keeps it across an older status, and ready again', async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === 'Running', 5000, 'RUNNING', 10);
    const query = `query ($id: String!) { getDeployment(deploymentId: $id) { status statusMessage ready notReadySince } }`;
    const read = async () => (await graphql<{ getDeployment: Record<string, unknown> }>(query, { id })).data?.getDeployment;
    expect(await read()).toMatchObject({ status: 'RUNNING', ready: true, notReadySince: null });

    const since = '2026-12-07T03:00:05.000Z';
    const message = 'not answering on port 20001 for 15 s (3 checks): the ingress sends it nothing until it answers again';
    await worker.report(id, 'Running', { message, readiness: { ready: false, since, reason: 'not answering on port 20001 for 15 s (3 checks)' } });
    await eventually(() => store.deployments.get(id)?.readiness?.ready === false, 5000, 'the readiness stored', 10);
    const unready = { status: 'RUNNING', statusMessage: message, ready: false, notReadySince: Date.parse(since) / 1000 };
    expect(await read()).toMatchObject(unready);

    await worker.report(id, 'Running', { message: 'from an older worker' });
    await eventually(() => store.deployments.get(id)?.statusMessage === 'from an older worker', 5000, 'the older status', 10);
    expect(await read()).toMatchObject({ ready: false, notReadySince: Date.parse(since) / 1000 });

    await worker.report(id, 'Running', { message: 'answering on port 20001 again after 20 s', readiness: { ready: true, since: '2026-12-07T03:00:20.000Z' } });
    await eventually(() => store.deployments.get(id)?.readiness?.ready === true, 5000, 'ready again', 10);
    expect(await read()).toMatchObject({ ready: true, notReadySince: null });
  });

  it('answers getNode, getPlatform and getPlatformServices', async () => {
    const id = await create();
    const result = await graphql<{
      getNode: Record<string, unknown>;
      getPlatform: { orchestrator: string; deployments: { id: string }[]; nodes: { id: string }[] };
      getPlatformServices: { name: string; status: string }[];
    }>(`
      query {
        getNode(nodeId: "node-a") {
          id
          model
          addr
          orchestrationPriority
          uptime
          ramFree
          ramUsed
          loadAvg5
          currentRamPercent
          updateTime
          deployments
          state
          arch
          runtimes
        }
        getPlatform {
          orchestrator
          deployments {
            id
          }
          nodes {
            id
          }
        }
        getPlatformServices {
          name
          status
        }
      }
    `);
    expect(result.errors).toBeUndefined();
    expect(result.data?.getNode).toMatchObject({
      id: 'node-a',
      model: 'test cpu',
      ramFree: 4096,
      ramUsed: 4096,
      currentRamPercent: 50,
      state: 'ALIVE',
      arch: 'x64',
      runtimes: ['docker'],
      orchestrationPriority: null,
    });
    expect(result.data?.getPlatform).toEqual({ orchestrator: 'leader', deployments: [{ id }], nodes: [{ id: 'node-a' }] });
    expect(result.data?.getPlatformServices.map((s) => `${s.name}:${s.status}`)).toEqual(['orchestrator:up', 'store:up', 'broker:down']);
  });

  it('changes env with setEnv: values stay write-only, a running app is sent again with the same commit, bad input names the field', async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    store.deployments.setStatus(id, DeploymentStatus.Running, { message: 'built' }, { commit: 'aaaa111' });
    const SET_ENV = `mutation ($id: String!, $set: [EnvVarInput!], $unset: [String!]) {
      setEnv(deploymentId: $id, set: $set, unset: $unset) { status statusMessage env { name value } } }`;
    const changed = await graphql<{ setEnv: Record<string, unknown> }>(SET_ENV, { id, set: [{ name: 'API_KEY', value: 'k-secret' }] });
    expect(changed.errors).toBeUndefined();
    expect(changed.data?.setEnv).toEqual({ status: 'UPDATE_REQUESTED', statusMessage: 'restarting with changed settings: set API_KEY', env: [{ name: 'API_KEY', value: '***' }] });
    await eventually(() => worker.requests().length === 2, 5000, 'second deploy.request', 10);
    expect(worker.requests()[1]?.body).toMatchObject({ commit: 'aaaa111', replace: true, env: { API_KEY: 'k-secret' } });

    const bad = await graphql(SET_ENV, { id, set: [{ name: '1BAD', value: 'x' }] });
    expect(bad.errors?.[0]).toMatchObject({ message: expect.stringContaining('set[0].name: "1BAD" is not a valid variable name') as unknown, extensions: { code: 'INVALID_INPUT' } });
    const unknown = await graphql(SET_ENV, { id, unset: ['NOPE'] });
    expect(unknown.errors?.[0]?.message).toContain('NOPE is not set on deployment');
  });

  it('redeploys on request, and on pollRedeploy only when the branch head moved', async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    store.deployments.setStatus(id, DeploymentStatus.Running, { message: 'built' }, { commit: 'aaaa' });

    branchHead = () => Promise.resolve('aaaa');
    const unchanged = await graphql<{ pollRedeploy: boolean }>(`mutation { pollRedeploy(deploymentId: "${id}") }`);
    expect(unchanged.data?.pollRedeploy).toBe(false);
    // the worker reported an abbreviated commit; ls-remote gives all 40 digits (the watcher's rule)
    branchHead = () => Promise.resolve('AAAA'.padEnd(40, '0'));
    const abbreviated = await graphql<{ pollRedeploy: boolean }>(`mutation { pollRedeploy(deploymentId: "${id}") }`);
    expect(abbreviated.data?.pollRedeploy).toBe(false);
    expect(worker.requests()).toHaveLength(1);

    branchHead = () => Promise.resolve('bbbb');
    const moved = await graphql<{ pollRedeploy: boolean }>(`mutation { pollRedeploy(deploymentId: "${id}") }`);
    expect(moved.data?.pollRedeploy).toBe(true);
    await eventually(() => worker.requests().length === 2, 5000, 'second deploy.request', 10);

    const forced = await graphql<{ redeploy: { status: string } }>(`mutation { redeploy(deploymentId: "${id}") { status } }`);
    expect(forced.errors).toBeUndefined();
    await eventually(() => worker.requests().length === 3, 5000, 'third deploy.request', 10);
  });

  it('lists each deploy as a release with what triggered it, and refuses a release the deployment does not have', async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    store.deployments.setStatus(id, DeploymentStatus.Running, { message: 'built' }, { commit: 'aaaa' });
    branchHead = () => Promise.resolve('bbbb');
    await graphql(`mutation { pollRedeploy(deploymentId: "${id}") }`);
    // the fake worker runs each request at once: wait for it, so the next release does not supersede this one
    await eventually(() => worker.requests().length === 2 && store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'second Running', 10);
    await graphql(`mutation { redeploy(deploymentId: "${id}") { status } }`);
    await eventually(() => worker.requests().length === 3 && store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'third Running', 10);
    const listed = await graphql<{ getReleases: { number: number; trigger: string; result: string; timeline: { status: string }[] }[] }>(
      `query ($id: String!) { getReleases(deploymentId: $id) { number trigger result timeline { status } } }`,
      { id },
    );
    expect(listed.data?.getReleases.map((r) => [r.number, r.trigger, r.result])).toEqual([
      [1, 'deploy by API', 'SUCCEEDED'],
      [2, 'new commit on branch (pollRedeploy)', 'SUCCEEDED'],
      [3, 'redeploy', 'SUCCEEDED'],
    ]);
    expect(listed.data?.getReleases[0]?.timeline[0]?.status).toBe('DEPLOYMENT_REQUESTED');
    const missing = await graphql(`query { logs(deploymentId: "${id}", release: 9) { next } }`);
    expect(missing.errors?.[0]).toMatchObject({ message: `deployment ${id} has no release 9`, extensions: { code: 'NOT_FOUND' } });
    const unknown = await graphql(`query { getReleases(deploymentId: "no-such-app") { number } }`);
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('rollbackDeployment', () => {
  it('runs the previous successful commit again from the kept build, marks the releases it can run, and refuses what it cannot', async () => {
    const [v1, v2] = ['1111111aaaa', '2222222bbbb'];
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    await worker.report(id, DeploymentStatus.Running, { commit: v1 });
    await eventually(() => store.deployments.get(id)?.commit === v1, 5000, 'v1 running', 10);
    await graphql(`mutation { redeploy(deploymentId: "${id}") { status } }`);
    await eventually(() => worker.requests().length === 2 && store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'the redeploy Running', 10);
    await worker.report(id, DeploymentStatus.Running, { commit: v2, attempt: 2 });
    await eventually(() => store.deployments.get(id)?.commit === v2, 5000, 'v2 running', 10);
    const releases = `query ($id: String!) { getReleases(deploymentId: $id) { number commit rollbackTarget } }`;
    const before = await graphql<{ getReleases: { number: number; rollbackTarget: boolean }[] }>(releases, { id });
    expect(before.data?.getReleases.map((r) => [r.number, r.rollbackTarget])).toEqual([
      [1, true],
      [2, false],
    ]);

    const rolled = await graphql<{ rollbackDeployment: unknown }>(`mutation ($id: String!) { rollbackDeployment(deploymentId: $id) { status commit statusMessage } }`, { id });
    expect(rolled.data?.rollbackDeployment).toEqual({ status: 'UPDATE_REQUESTED', commit: v1, statusMessage: 'rolling back to 1111111' });
    await eventually(() => worker.requests().length === 3 && store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'the rollback Running', 10);
    expect(worker.requests()[2]?.body).toMatchObject({ replace: true, fromKept: true, commit: v1 });
    const after = await graphql<{ getReleases: { number: number; rollbackTarget: boolean }[] }>(releases, { id });
    // v1 runs again (release 3); v2 is the one to go back to
    expect(after.data?.getReleases.map((r) => [r.number, r.rollbackTarget])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);

    const notKept = await graphql(`mutation { rollbackDeployment(deploymentId: "${id}", commit: "abcdef0") { status } }`);
    expect(notKept.errors?.[0]).toMatchObject({ message: expect.stringContaining('is not one of the versions kept') as unknown, extensions: { code: 'NOT_FOUND' } });
    const unknown = await graphql(`mutation { rollbackDeployment(deploymentId: "no-such-app") { status } }`);
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('GraphQL API additions for the web UI', () => {
  it('answers statsHistory with the samples received, oldest first, and statsTime with the latest', async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    const query = `query ($id: String!) { statsHistory(deploymentId: $id) { time cpuUsage memMb maxMemMb } getDeployment(deploymentId: $id) { cpuUsage memMb statsTime } }`;
    const empty = await graphql<{ statsHistory: unknown[]; getDeployment: { statsTime: number | null } }>(query, { id });
    expect(empty.data).toEqual({ statsHistory: [], getDeployment: { cpuUsage: null, memMb: null, statsTime: null } });

    await worker.stats(id, { cpuPercent: 1.5, memMb: 40.25, maxMemMb: 512 });
    await eventually(() => store.deployments.get(id)?.cpuPercent === 1.5, 5000, 'first stats', 10);
    await worker.stats(id, { cpuPercent: 3, memMb: 41 });
    await eventually(() => store.deployments.get(id)?.cpuPercent === 3, 5000, 'second stats', 10);

    const result = await graphql<{
      statsHistory: { time: number; cpuUsage: number; memMb: number; maxMemMb: number }[];
      getDeployment: { cpuUsage: number; memMb: number; statsTime: number };
    }>(query, { id });
    expect(result.errors).toBeUndefined();
    const samples = result.data?.statsHistory ?? [];
    expect(samples.map(({ cpuUsage, memMb, maxMemMb }) => ({ cpuUsage, memMb, maxMemMb }))).toEqual([
      { cpuUsage: 1.5, memMb: 40.25, maxMemMb: 512 },
      { cpuUsage: 3, memMb: 41, maxMemMb: 256 },
    ]);
    expect(Math.abs((samples[0]?.time ?? 0) - Date.now() / 1000)).toBeLessThan(60);
    expect(samples[1]?.time).toBeGreaterThanOrEqual(samples[0]?.time ?? Infinity);
    expect(result.data?.getDeployment).toEqual({ cpuUsage: 3, memMb: 41, statsTime: samples[1]?.time });
  });

  it('turns watching on and off with setWatch, reporting the change to subscribers', async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    const client = wsClient();
    const seen = subscribeUntil<{ deploymentChanged: { id: string; watch: boolean } }>(
      client,
      'subscription { deploymentChanged { id watch } }',
      {},
      (events) => events.some((e) => e.deploymentChanged.watch),
    );
    await subscribed(client);
    const on = await graphql<{ setWatch: { id: string; watch: boolean } }>(
      'mutation ($id: String!, $watch: Boolean!) { setWatch(deploymentId: $id, watch: $watch) { id watch } }',
      { id, watch: true },
    );
    expect(on.data?.setWatch).toEqual({ id, watch: true });
    expect(store.deployments.get(id)?.watch).toBe(true);
    expect((await seen).at(-1)?.deploymentChanged).toEqual({ id, watch: true });

    const off = await graphql<{ setWatch: { watch: boolean } }>(`mutation { setWatch(deploymentId: "${id}", watch: false) { watch } }`);
    expect(off.data?.setWatch.watch).toBe(false);
    expect(store.deployments.get(id)?.watch).toBe(false);
  });

  it("answers a node's current CPU and disk and its history, newest last, and null for what an older agent does not send", async () => {
    const query = `{ getNodes { id cpuPercent ramTotal diskUsedMb diskTotalMb history { at cpuPercent memUsedMb memTotalMb diskUsedMb diskTotalMb } } }`;
    type Answer = { getNodes: { id: string; cpuPercent: number | null; diskUsedMb: number | null; history: Record<string, number | null>[] }[] };
    const before = await graphql<Answer>(query);
    expect(before.errors).toBeUndefined();
    expect(before.data?.getNodes[0]).toMatchObject({ id: 'node-a', cpuPercent: null, ramTotal: 8192, diskUsedMb: null, diskTotalMb: null });
    expect(before.data?.getNodes[0]?.history.at(-1)).toMatchObject({ cpuPercent: null, memTotalMb: 8192, diskUsedMb: null, diskTotalMb: null });

    const info = { ...nodeInfo('node-a', { freeMb: 2000, totalMb: 8000 }), cpuBusyPercent: 37.5, disk: { usedMb: 12_000, totalMb: 50_000 } };
    await broker.publish(queues.telemetry, createMessage(MessageType.NodeInfo, info, { from: 'node-a' }));
    await eventually(() => store.nodes.get('node-a')?.info.cpuBusyPercent === 37.5, 5000, 'the heartbeat with CPU and disk', 10);
    const after = await graphql<Answer>(query);
    expect(after.errors).toBeUndefined();
    const node = after.data?.getNodes[0];
    expect(node).toMatchObject({ cpuPercent: 37.5, ramTotal: 8000, diskUsedMb: 12_000, diskTotalMb: 50_000 });
    const newest = node?.history.at(-1);
    expect(newest).toMatchObject({ cpuPercent: 37.5, memUsedMb: 6000, memTotalMb: 8000, diskUsedMb: 12_000, diskTotalMb: 50_000 });
    expect(Math.abs((newest?.at ?? 0) - Date.now() / 1000)).toBeLessThan(60);

    const one = await graphql<{ getNode: { history: { cpuPercent: number | null }[] } }>('{ getNode(nodeId: "node-a") { history { cpuPercent } } }');
    expect(one.data?.getNode.history.at(-1)).toEqual({ cpuPercent: 37.5 });
  });

  it("shows a node's extensions from its latest heartbeat as sorted, typed text, in queries and nodeChanged", async () => {
    interface Extension {
      key: string;
      value: string;
      type: string;
    }
    const extensionsOf = async () =>
      (await graphql<{ getNodes: { id: string; extensions: Extension[] }[] }>('{ getNodes { id extensions { key value type } } }')).data
        ?.getNodes;
    // what a worker with an add-on sends (FakeWorker's heartbeats carry none)
    const beatWith = (extensions: NodeInfoExtensions) =>
      broker.publish(queues.telemetry, createMessage(MessageType.NodeInfo, { ...nodeInfo('node-a'), extensions }, { from: 'node-a' }));
    expect(await extensionsOf()).toEqual([{ id: 'node-a', extensions: [] }]);

    const client = wsClient();
    const changes = subscribeUntil<{ nodeChanged: { id: string; extensions: Extension[] } }>(
      client,
      'subscription { nodeChanged { id extensions { key value type } } }',
      {},
      (events) => events.some((e) => e.nodeChanged.extensions.length > 0),
    );
    await subscribed(client);
    await beatWith({ 'temperature.celsius': 47.5, 'fan.on': false, board: 'rpi-4', 'jobs.done': 12 });
    const readings = [
      { key: 'board', value: 'rpi-4', type: 'string' },
      { key: 'fan.on', value: 'false', type: 'boolean' },
      { key: 'jobs.done', value: '12', type: 'number' },
      { key: 'temperature.celsius', value: '47.5', type: 'number' },
    ];
    expect((await changes).at(-1)?.nodeChanged).toEqual({ id: 'node-a', extensions: readings });
    expect(await extensionsOf()).toEqual([{ id: 'node-a', extensions: readings }]);

    // a heartbeat without them (the add-on stopped, or failed) clears them: they are readings, not settings
    await worker.beat();
    await eventually(() => store.nodes.get('node-a')?.info.extensions === undefined, 5000, 'a heartbeat without extensions', 10);
    expect(await extensionsOf()).toEqual([{ id: 'node-a', extensions: [] }]);
  });

  it("says in words what a node's runtime enforces, and null for a node that does not say", async () => {
    const isolationOf = async () => (await graphql<{ getNodes: { id: string; runtimes: string[]; isolation: string | null }[] }>('{ getNodes { id runtimes isolation } }')).data?.getNodes;
    expect(await isolationOf()).toEqual([{ id: 'node-a', runtimes: ['docker'], isolation: null }]);
    const info = { ...nodeInfo('node-a'), runtimes: ['process' as const], isolation: { runsAs: 'agent' as const, limits: false, limitsWhyNot: 'no memory and cpu control groups under /sys/fs/cgroup' } };
    await broker.publish(queues.telemetry, createMessage(MessageType.NodeInfo, info, { from: 'node-a' }));
    await eventually(() => store.nodes.get('node-a')?.info.isolation !== undefined, 5000, 'a heartbeat with isolation', 10);
    expect(await isolationOf()).toEqual([{ id: 'node-a', runtimes: ['process'], isolation: "runs as the agent's user, no limits: no memory and cpu control groups under /sys/fs/cgroup" }]);
  });
});

describe('subscriptions over graphql-ws', () => {
  it('reports a new deployment reaching RUNNING', async () => {
    const client = wsClient();
    const seen = subscribeUntil<{ deploymentChanged: { id: string; status: string } }>(
      client,
      'subscription { deploymentChanged { id status } }',
      {},
      (events) => events.some((e) => e.deploymentChanged.status === 'RUNNING'),
    );
    await subscribed(client);
    const id = await create();
    const events = await seen;
    expect(events.map((e) => e.deploymentChanged.id)).toEqual(events.map(() => id));
    expect(events.map((e) => e.deploymentChanged.status)).toEqual([
      'DEPLOYMENT_REQUESTED',
      'DELEGATING_DEPLOYMENT',
      'BUILDING_DEPLOYMENT',
      'TESTING_DEPLOYMENT',
      'DEPLOYING',
      'RUNNING',
    ]);
  });

  it('streams the log lines of one deployment and reports node heartbeats', async () => {
    const id = await create();
    const other = await create('https://git.home.lan/bob/other.git');
    await eventually(() => store.deployments.get(other)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    const client = wsClient();
    const lines = subscribeUntil<{ logLines: { seq: number; text: string }[] }>(
      client,
      'subscription ($id: String!) { logLines(deploymentId: $id) { seq text } }',
      { id },
      (events) => events.flatMap((e) => e.logLines).length >= 3,
    );
    const nodes = subscribeUntil<{ nodeChanged: { id: string; state: string } }>(
      client,
      'subscription { nodeChanged { id state } }',
      {},
      (events) => events.length >= 1,
    );
    await subscribed(client);
    await worker.log(other, 1, ['not this one']);
    await worker.log(id, 1, ['one', 'two']);
    await worker.log(id, 2, ['three']);
    await worker.beat();
    expect((await lines).flatMap((e) => e.logLines)).toEqual([
      { seq: 1, text: 'one' },
      { seq: 2, text: 'two' },
      { seq: 3, text: 'three' },
    ]);
    expect((await nodes)[0]?.nodeChanged).toEqual({ id: 'node-a', state: 'ALIVE' });
  });

  it('raises a failed deploy as a notification to subscribers, and lists it newest first', async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    const client = wsClient();
    const raised = subscribeUntil<{ notificationRaised: { id: string; kind: string; message: string; deploymentId: string; nodeId: string } }>(
      client,
      'subscription { notificationRaised { id kind message deploymentId nodeId } }',
      {},
      (events) => events.length >= 1,
    );
    await subscribed(client);
    await worker.report(id, DeploymentStatus.Errored, { message: 'the app exited with code 1' });
    const [event] = await raised;
    expect(event?.notificationRaised).toMatchObject({ kind: 'deploy-failed', deploymentId: id, nodeId: 'node-a' });
    expect(event?.notificationRaised.message).toMatch(/failed on node-a: the app exited with code 1$/);
    const listed = await graphql<{ notifications: { id: string; kind: string }[] }>('query { notifications(limit: 5) { id kind } }');
    expect(listed.data?.notifications).toEqual([{ id: event?.notificationRaised.id, kind: 'deploy-failed' }]);
  });

  it('refuses a connection without the token, or with a wrong one', async () => {
    await expect(
      subscribeUntil(wsClient('Bearer wrong-token-000'), 'subscription { nodeChanged { id } }', {}, () => true),
    ).rejects.toMatchObject({ code: 4403 });
    const client = wsClient(null);
    await expect(subscribeUntil(client, 'subscription { nodeChanged { id } }', {}, () => true)).rejects.toMatchObject({
      code: 4403,
      reason: 'Forbidden',
    });
  });

  it('rejects a subscription to the log of an unknown deployment with NOT_FOUND', async () => {
    const client = wsClient();
    await expect(
      subscribeUntil(client, 'subscription { logLines(deploymentId: "nope") { seq } }', {}, () => true),
    ).rejects.toThrow(/NOT_FOUND/);
  });

  it('answers a WebSocket upgrade on any other path with 404', async () => {
    const socket = new WebSocket(server.url.replace(/^http/, 'ws') + '/other');
    const refused = await new Promise<string>((resolve) => {
      socket.once('error', (error) => {
        resolve(error.message);
      });
      socket.once('open', () => {
        socket.close();
        resolve('opened');
      });
    });
    expect(refused).toBe('Unexpected server response: 404');
  });

  it('refuses an alias bomb before parsing it, as over HTTP', async () => {
    const bomb = `subscription { ${Array.from({ length: 2000 }, (_, i) => `a${String(i)}:__typename`).join(' ')} }`;
    await expect(subscribeUntil(wsClient(), bomb, {}, () => true)).rejects.toThrow(/query holds more than 5000 tokens.*PAYLOAD_TOO_LARGE/);
  });
});

describe('logs', () => {
  it('serves logs over GraphQL (paged) and REST (plain text), and deletes them', async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    await worker.log(id, 1, ['starting', 'listening on 3000', 'ready']);
    await eventually(() => store.logs.read(id).length === 3, 5000, 'stored log lines', 10);

    const available = await graphql<{ getAvailableLogs: string[] }>('query { getAvailableLogs }');
    expect(available.data?.getAvailableLogs).toEqual([id]);

    const page = await graphql<{ logs: { lines: { seq: number; text: string; stream: string }[]; next: number } }>(
      `
        query ($id: String!) {
          logs(deploymentId: $id, after: 1, limit: 1) {
            lines {
              seq
              text
              stream
            }
            next
          }
        }
      `,
      { id },
    );
    expect(page.data?.logs).toEqual({ lines: [{ seq: 2, text: 'listening on 3000', stream: 'stdout' }], next: 2 });

    const rest = await get(`/log/${id}`);
    expect(rest.status).toBe(200);
    expect(rest.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await rest.text();
    expect(
      text
        .trimEnd()
        .split('\n')
        .map((line) => line.replace(/^\S+ /, '')),
    ).toEqual(['[stdout] starting', '[stdout] listening on 3000', '[stdout] ready']);

    const deleted = await graphql<{ deleteLog: boolean }>(`mutation { deleteLog(logId: "${id}") }`);
    expect(deleted.data?.deleteLog).toBe(true);
    expect(store.logs.read(id)).toEqual([]);
    expect((await graphql<{ getAvailableLogs: string[] }>('query { getAvailableLogs }')).data?.getAvailableLogs).toEqual([]);
  });

  it('streams a log larger than one page over REST', async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    store.logs.append(
      id,
      Array.from({ length: 2500 }, (_, i) => ({
        stream: 'stdout' as const,
        text: `line ${i + 1}`,
        at: new Date().toISOString(),
      })),
    );
    const text = await (await get(`/log/${id}`)).text();
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2500);
    expect(lines[2499]).toMatch(/line 2500$/);
  });
});

describe('bad requests get a clear error and change nothing', () => {
  async function expectRejected(
    run: () => Promise<GraphQLResponse>,
    code: string,
    message: RegExp,
    status?: number,
  ): Promise<GraphQLResponse> {
    const before = storeState();
    const result = await run();
    expect(result.errors?.[0]?.extensions?.code).toBe(code);
    expect(result.errors?.[0]?.message).toMatch(message);
    if (status !== undefined) expect(result.status).toBe(status);
    expect(storeState()).toEqual(before);
    return result;
  }

  beforeEach(async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
  });

  it('a malformed deployment URL', async () => {
    await expectRejected(
      () => graphql(CREATE_DEPLOYMENT, { url: 'ext::sh -c touch% /tmp/pwned', gitBranch: 'main' }),
      'INVALID_INPUT',
      /srcUrl/,
    );
    await expectRejected(() => graphql(CREATE_DEPLOYMENT, { url: '-u evil', gitBranch: 'main' }), 'INVALID_INPUT', /srcUrl/);
  });

  it('invalid env names', async () => {
    const result = await expectRejected(
      () =>
        graphql(
          `mutation { createDeployment(deploymentUrl: "${SRC}", gitBranch: "main", env: [{ name: "1BAD-NAME", value: "x" }]) }`,
        ),
      'INVALID_INPUT',
      /env\[0\]\.name: "1BAD-NAME" is not a valid variable name/,
    );
    expect(result.errors?.[0]?.extensions?.details).toEqual({ field: 'env[0].name' });
    await expectRejected(
      () =>
        graphql(
          `mutation { createDeployment(deploymentUrl: "${SRC}", env: [{ name: "A", value: "1" }, { name: "A", value: "2" }]) }`,
        ),
      'INVALID_INPUT',
      /A is given twice/,
    );
  });

  it('env named __proto__ and env values with a NUL byte, before anything is stored', async () => {
    const withEnv = `mutation($env: [EnvVarInput!]) { createDeployment(deploymentUrl: "${SRC}", gitBranch: "main", env: $env) }`;
    await expectRejected(() => graphql(withEnv, { env: [{ name: '__proto__', value: 'x' }] }), 'INVALID_INPUT', /env\[0\]\.name: __proto__ cannot be an environment variable name/);
    await expectRejected(() => graphql(withEnv, { env: [{ name: 'TOKEN', value: 'a\u0000b' }] }), 'INVALID_INPUT', /env\[0\]\.value: the value of TOKEN contains a NUL byte/);
  });

  it('unknown ids', async () => {
    for (const operation of [
      'mutation { cancelDeployment(deploymentId: "no-such-app") }',
      'mutation { pollRedeploy(deploymentId: "no-such-app") }',
      'mutation { redeploy(deploymentId: "no-such-app") { id } }',
      'mutation { deleteLog(logId: "no-such-app") }',
      'mutation { setWatch(deploymentId: "no-such-app", watch: true) { id } }',
      'mutation { removeDeployment(deploymentId: "no-such-app") { id } }',
      'query { statsHistory(deploymentId: "no-such-app") { time } }',
      'query { getDeployment(deploymentId: "no-such-app") { id } }',
      'query { logs(deploymentId: "no-such-app") { next } }',
    ]) {
      const result = await expectRejected(() => graphql(operation), 'NOT_FOUND', /no deployment with id no-such-app/);
      expect(result.errors?.[0]?.extensions?.deploymentId).toBe('no-such-app');
    }
    await expectRejected(() => graphql('query { getNode(nodeId: "ghost") { id } }'), 'NOT_FOUND', /no node with id ghost/);
    await expectRejected(() => graphql('query { getNode(nodeId: "../etc") { id } }'), 'INVALID_INPUT', /nodeId: expected an id/);
  });

  it('a missing or wrong token', async () => {
    await expectRejected(() => graphql(GET_DEPLOYMENTS, {}, {}), 'UNAUTHORIZED', /missing token/, 401);
    const id = store.deployments.list()[0]?.id ?? '';
    await expectRejected(() => graphql(`mutation { setWatch(deploymentId: "${id}", watch: true) { watch } }`, {}, {}), 'UNAUTHORIZED', /missing token/, 401);
    await expectRejected(
      () => graphql(CREATE_DEPLOYMENT, { url: SRC, gitBranch: 'main' }, { authorization: 'Bearer wrong-token-000' }),
      'UNAUTHORIZED',
      /invalid token/,
      401,
    );
  });

  it('an oversized body, too many fields, a deep query', async () => {
    await expectRejected(
      () => graphql(CREATE_DEPLOYMENT, { url: SRC, gitBranch: 'main', padding: 'x'.repeat(120 * 1024) }),
      'PAYLOAD_TOO_LARGE',
      /larger than 102400 bytes/,
      413,
    );
    const wide = `query { ${Array.from({ length: 600 }, (_, i) => `f${i}: getDeployments { id }`).join(' ')} }`;
    await expectRejected(() => graphql(wide), 'PAYLOAD_TOO_LARGE', /more than 500 fields/, 400);
    // the schema is at most 4 levels deep, so only made-up fields can nest deeper: the depth rule
    // runs before field checks and reports first
    const tooDeep = `query { ${'a { '.repeat(11)}b${' }'.repeat(11)} }`;
    await expectRejected(() => graphql(tooDeep), 'PAYLOAD_TOO_LARGE', /nested deeper than 10 levels/, 400);
  });

  it('a syntax error or an unknown field', async () => {
    await expectRejected(() => graphql('query { getDeployments { id '), 'INVALID_INPUT', /Syntax Error/, 400);
    await expectRejected(() => graphql('query { getDeployments { nope } }'), 'INVALID_INPUT', /Cannot query field "nope"/, 400);
  });
});

describe('REST', () => {
  it('answers /ping without a token, redirects / and serves a placeholder page and the query runner', async () => {
    expect(await (await get('/ping', {})).text()).toBe('pong');
    const root = await get('/', {});
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/index.html');
    expect(await (await get('/index.html', {})).text()).toContain('not built');
    const page = await (await get('/graphiql', {})).text();
    expect(page).toContain("fetch('/graphql'");
    expect(page).not.toMatch(/https?:\/\//);
  });

  it("gives a node's rollover rank, 404 for an unknown node", async () => {
    const health = await get('/health/node-a');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ nodeId: 'node-a', orchestrationPriority: null, state: 'alive' });
    const unknown = await get('/health/ghost');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no node with id ghost', nodeId: 'ghost' } });
  });

  it('exports a snapshot of the state', async () => {
    const id = await create();
    await eventually(() => store.deployments.get(id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    const response = await get('/export');
    expect(response.status).toBe(200);
    const snapshot = (await response.json()) as {
      epoch: number;
      deployments: { id: string; statusHistory: unknown[]; releases: { number: number; trigger: string; result: string }[] }[];
      nodes: { id: string }[];
    };
    expect(snapshot.epoch).toBe(orchestrator.epoch);
    expect(snapshot.deployments.map((d) => d.id)).toEqual([id]);
    expect(snapshot.deployments[0]?.statusHistory).toHaveLength(6);
    expect(snapshot.deployments[0]?.releases).toEqual([expect.objectContaining({ number: 1, trigger: 'deploy by API', result: 'succeeded' })]);
    expect(snapshot.nodes.map((n) => n.id)).toEqual(['node-a']);
  });

  it('requires the token for data routes and answers unknown routes with JSON 404', async () => {
    for (const path of ['/export', '/log/x', '/health/node-a']) {
      const response = await get(path, {});
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    }
    const missing = await get('/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /nope' } });
    const unknownLog = await get('/log/no-such-app');
    expect(unknownLog.status).toBe(404);
  });
});

describe('GET /graphql', () => {
  const query = encodeURIComponent('{ getNodes { id } }');

  it('runs a query sent with the token, as curl sends it, and refuses a mutation', async () => {
    const answer = await get(`/graphql?query=${query}`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ data: { getNodes: [{ id: 'node-a' }] } });
    const mutation = await get(`/graphql?query=${encodeURIComponent('mutation { deleteLog(logId: "x") }')}`);
    expect(mutation.status).toBe(405);
  });

  it('without a token (insecureNoAuth), refuses a GET a page on another site could send', async () => {
    await using open = await createApiServer({ orchestrator, store, token: TOKEN, logger, insecureNoAuth: true });
    const { url } = await open.listen(0, '127.0.0.1');
    const simple = await fetch(`${url}/graphql?query=${query}`);
    expect(simple.status).toBe(400);
    expect(await simple.text()).toMatch(/Cross-Site Request Forgery/);
    const preflighted = await fetch(`${url}/graphql?query=${query}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(preflighted.status).toBe(200);
  });
});

describe('a mutation whose change the standbys may not have', () => {
  it('keeps what the mutation did in its answer and adds an error that says the change lives on the leader only', async () => {
    let refused = true;
    await using api2 = await createApiServer({
      orchestrator,
      store,
      token: TOKEN,
      logger,
      durableWrites: () => (refused ? Promise.reject(new KrakenError(ErrorCode.Unavailable, 'done on the leader, but the broker did not confirm change 7 for the standbys')) : Promise.resolve()),
    });
    const { url } = await api2.listen(0, '127.0.0.1');
    const send = async () => {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ query: CREATE_DEPLOYMENT, variables: { url: SRC, gitBranch: 'main' } }),
      });
      return (await response.json()) as { data?: { createDeployment: string }; errors?: { message: string; extensions?: { code?: string } }[] };
    };
    const answer = await send();
    expect(answer.data?.createDeployment).toMatch(/^todo-api-/);
    expect(answer.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/^done on the leader, but the broker did not confirm/) as unknown, extensions: expect.objectContaining({ code: 'UNAVAILABLE' }) as unknown })]);
    expect(store.deployments.get(answer.data?.createDeployment ?? '')).toBeDefined();
    // queries wait for nothing, and once changes are confirmed again mutations answer cleanly
    refused = false;
    expect((await send()).errors).toBeUndefined();
  });
});

describe('insecureNoAuth', () => {
  it('accepts requests without a token, still refuses a wrong one, and says so at start', async () => {
    await using open = await createApiServer({ orchestrator, store, token: TOKEN, logger, insecureNoAuth: true });
    const { url } = await open.listen(0, '127.0.0.1');
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ getNodes { id } }' }),
      });
    const anonymous = await post({});
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ data: { getNodes: [{ id: 'node-a' }] } });
    expect((await fetch(`${url}/export`)).status).toBe(200);
    expect((await post({ authorization: 'Bearer wrong-token-000' })).status).toBe(401);
    expect(logger.records.some((r) => r.level === 'warn' && r.message.startsWith('insecureNoAuth'))).toBe(true);
    // the default server still wants one
    expect((await fetch(`${server.url}/export`)).status).toBe(401);
  });
});

describe('POST /join and what GET /ping tells a scanner', () => {
  const JOIN_TOKEN = 'join-token-0123456789';
  let joinApi: ApiServer;
  let joinServer: ListeningApi;
  let askedFor: string[];

  /** An API that accepts joins as `join` says, listening on a free port. */
  async function listenForJoins(join: NonNullable<Parameters<typeof createApiServer>[0]['join']>): Promise<void> {
    joinApi = await createApiServer({ orchestrator, store, token: TOKEN, logger, join });
    joinServer = await joinApi.listen(0, '127.0.0.1');
  }

  beforeEach(async () => {
    askedFor = [];
    await listenForJoins({
      token: JOIN_TOKEN,
      clusterId: 'home-lab',
      brokerUrlFor: (nodeId) => {
        askedFor.push(nodeId);
        return Promise.resolve(`amqp://${nodeId}:s3cret@192.168.1.10:5672`);
      },
    });
  });

  afterEach(async () => {
    await joinApi.close();
  });

  function postJoin(body: unknown, target = joinServer): Promise<Response> {
    return fetch(`${target.url}/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  it('gives a standby with the join token a snapshot of the store, and refuses one without it', async () => {
    const refused = await fetch(`${joinServer.url}/replication/snapshot`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(refused.status).toBe(401);
    const response = await fetch(`${joinServer.url}/replication/snapshot`, { headers: { authorization: `Bearer ${JOIN_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('x-kraken-change-seq'))).toBe(store.changes.seq);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.subarray(0, 15).toString('latin1')).toBe('SQLite format 3');
  });

  it('grants broker cluster membership, with the data key, only to a node that asks to run a broker node, and lists every endpoint to all', async () => {
    await joinApi.close();
    await listenForJoins({
      token: JOIN_TOKEN,
      clusterId: 'home-lab',
      brokerUrlFor: (nodeId) => Promise.resolve(`amqp://${nodeId}:s3cret@192.168.1.10:5673`),
      brokerClusterFor: (nodeId) => Promise.resolve({ cookie: `cookie-for-${nodeId}`, adminPassword: 'admin', seedNode: 'kraken-leader@192.168.1.10' }),
      dataKey,
      brokerEndpoints: () => Promise.resolve(['192.168.1.10:5673', '192.168.1.11:5673']),
    });
    const worker = (await (await postJoin({ token: JOIN_TOKEN, nodeId: 'pi', protocolVersion: 1 })).json()) as Record<string, unknown>;
    expect(worker['brokerCluster']).toBeUndefined();
    expect(JSON.stringify(worker)).not.toContain(dataKey.toText());
    expect(worker['brokerEndpoints']).toEqual(['192.168.1.10:5673', '192.168.1.11:5673']);
    const standby = (await (await postJoin({ token: JOIN_TOKEN, nodeId: 'mini-pc', protocolVersion: 1, brokerNode: true })).json()) as Record<string, unknown>;
    expect(standby['brokerCluster']).toEqual({ cookie: 'cookie-for-mini-pc', adminPassword: 'admin', seedNode: 'kraken-leader@192.168.1.10', dataKey: dataKey.toText() });
    expect(parseJoinAnswer(standby)).toMatchObject({ ok: true });
  });

  it('gives a node with the join token its broker URL, the cluster, the leader and its epoch', async () => {
    const response = await postJoin({ token: JOIN_TOKEN, nodeId: 'mini-pc', protocolVersion: 1 });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({
      clusterId: 'home-lab',
      brokerUrl: 'amqp://mini-pc:s3cret@192.168.1.10:5672',
      orchestratorNodeId: 'leader',
      epoch: orchestrator.epoch,
      protocolVersion: 1,
    });
    expect(askedFor).toEqual(['mini-pc']);
    // a version string with the same major is the same protocol
    expect((await postJoin({ token: JOIN_TOKEN, nodeId: 'pi-4', protocolVersion: '1.3' })).status).toBe(200);
  });

  it('refuses a missing or wrong join token with 401, logging the node and its address', async () => {
    const missing = await postJoin({ nodeId: 'mini-pc', protocolVersion: 1 });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({
      error: { code: 'UNAUTHORIZED', message: 'missing join token: send { "token": "<the cluster join token>" }' },
    });
    const wrong = await postJoin({ token: TOKEN, nodeId: 'intruder', protocolVersion: 1 });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'invalid join token' } });
    const warnings = logger.records.filter((r) => r.level === 'warn' && r.message === 'refused a join');
    expect(warnings.map((w) => w.fields['nodeId'])).toEqual(['mini-pc', 'intruder']);
    expect(warnings[1]?.fields['remote']).toMatch(/127\.0\.0\.1$/);
    expect(askedFor).toEqual([]);
  });

  it('refuses a join with 503 while it no longer leads (a former leader winding down), marked so the node asks again', async () => {
    jest.spyOn(orchestrator, 'leads', 'get').mockReturnValue(false);
    const response = await postJoin({ token: JOIN_TOKEN, nodeId: 'mini-pc', protocolVersion: 1, brokerNode: true });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: {
        code: 'UNAVAILABLE',
        message: 'leader no longer leads this cluster; ask again in a few seconds or join through the current leader',
        nodeId: 'mini-pc',
        details: { notLeader: true },
      },
    });
    expect(askedFor).toEqual([]);
  });

  it('refuses another protocol major with 409, saying which side to update', async () => {
    const response = await postJoin({ token: JOIN_TOKEN, nodeId: 'mini-pc', protocolVersion: 2 });
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({
      error: {
        code: 'UNSUPPORTED_VERSION',
        message:
          'node mini-pc speaks protocol version 2, this orchestrator speaks 1: update the orchestrator so both speak the same version',
        nodeId: 'mini-pc',
        details: { nodeProtocolVersion: 2, orchestratorProtocolVersion: 1 },
      },
    });
    expect(protocolMismatch('pi-4', 2, 3)).toBe(
      'node pi-4 speaks protocol version 2, this orchestrator speaks 3: update the node pi-4 (its Kraken agent) so both speak the same version',
    );
    expect(askedFor).toEqual([]);
  });

  it('refuses malformed requests with 400, naming the field', async () => {
    const notJson = await postJoin('{ token: nope');
    expect(notJson.status).toBe(400);
    // no object, no token: refused as unauthenticated before anything else is looked at
    const notObject = await postJoin([JOIN_TOKEN]);
    expect(notObject.status).toBe(401);
    const badId = await postJoin({ token: JOIN_TOKEN, nodeId: '../etc', protocolVersion: 1 });
    expect(badId.status).toBe(400);
    expect(await badId.json()).toMatchObject({ error: { code: 'INVALID_INPUT', message: expect.stringMatching(/^nodeId: expected an id/) as unknown, details: { field: 'nodeId' } } });
    const badBrokerNode = await postJoin({ token: JOIN_TOKEN, nodeId: 'mini-pc', protocolVersion: 1, brokerNode: 'yes' });
    expect(((await badBrokerNode.json()) as { error: { message: string } }).error.message).toMatch(/^brokerNode: expected true or false/);
    for (const protocolVersion of [undefined, 0, 'one', 1.5]) {
      const bad = await postJoin({ token: JOIN_TOKEN, nodeId: 'mini-pc', protocolVersion });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^protocolVersion: expected/);
    }
    expect(askedFor).toEqual([]);
  });

  it('answers 404 on an orchestrator that does not take joins', async () => {
    const response = await postJoin({ token: JOIN_TOKEN, nodeId: 'mini-pc', protocolVersion: 1 }, server);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'this orchestrator does not accept joins' } });
  });

  it('marks /ping with the protocol version, and the cluster id when it is known', async () => {
    const withJoin = await fetch(`${joinServer.url}/ping`);
    expect(await withJoin.text()).toBe('pong');
    expect(withJoin.headers.get('x-kraken-protocol')).toBe('1');
    expect(withJoin.headers.get('x-kraken-cluster-id')).toBe('home-lab');
    const without = await fetch(`${server.url}/ping`);
    expect(without.headers.get('x-kraken-protocol')).toBe('1');
    expect(without.headers.get('x-kraken-cluster-id')).toBeNull();
  });

  it('refuses join options it cannot use, naming them', async () => {
    const base = { orchestrator, store, token: TOKEN, logger };
    const brokerUrlFor = () => 'amqp://x';
    await expect(createApiServer({ ...base, join: { token: 'short', clusterId: 'home-lab', brokerUrlFor } })).rejects.toThrow(
      'join token must be at least 8 characters long',
    );
    await expect(
      createApiServer({ ...base, join: { token: JOIN_TOKEN, clusterId: 'home lab\r\n', brokerUrlFor } }),
    ).rejects.toThrow(/^join\.clusterId must be 1-64 characters from \[A-Za-z0-9._-\]/);
  });
});

describe('whether anyone watches the cluster (workers pace app stats by it)', () => {
  it('counts an open subscription connection, and an API request, as someone watching', async () => {
    expect(api.watched()).toBe(false);
    const client = wsClient();
    await subscribed(client);
    expect(api.watched()).toBe(true);
    await client.dispose();
    await eventually(() => !api.watched(), 5000, 'the closed connection no longer counted', 10);
    await graphql(GET_DEPLOYMENTS);
    expect(api.watched()).toBe(true);
  });

  it('does not count a refused subscription connection', async () => {
    await expect(subscribeUntil(wsClient('Bearer wrong-token-000'), 'subscription { nodeChanged { id } }', {}, () => true)).rejects.toMatchObject({ code: 4403 });
    expect(api.watched()).toBe(false);
  });
});
