// Issue 17: one stuck app never holds up the others. On a node that builds one app at a time (the
// default on two cores), an app whose test hangs must not keep a small app sent after it from
// running: the deploy slot bounds clone and build only. Real orchestrator, RabbitMQ and process
// runtime; the "hung" test sleeps 30 s so that the test ends on its own.
import path from 'node:path';
import { StopWaiting, eventually, freePort, gitFixtureRepo, manifestToml } from '@kraken/testing';
import { ApiClient } from './support/api-client.js';
import { Stack, TOKEN } from './support/stack.js';

jest.setTimeout(300_000);

const HANG_SECONDS = 30;

let stack: Stack;
let api: ApiClient;

beforeAll(async () => {
  stack = await Stack.start();
  api = new ApiClient(stack.server.url, TOKEN);
  const nodeId = stack.newNodeId('stuck');
  await stack.startProcessWorker(nodeId);
  await eventually(async () => (await api.deploymentsAndNodes()).getNodes.some((n) => n.id === nodeId), 30_000, 'the worker to report in');
});

afterAll(async () => {
  await api.close();
  await stack.close();
});

function statusOf(id: string): Promise<{ status: string; statusMessage: string | null }> {
  return api
    .data<{ getDeployment: { status: string; statusMessage: string | null } }>('query ($id: String!) { getDeployment(deploymentId: $id) { status statusMessage } }', { id })
    .then((data) => data.getDeployment);
}

async function appRepo(name: string, test: string): Promise<string> {
  const port = await freePort();
  return gitFixtureRepo(path.join(stack.dir.path, name), {
    'shipwreck.toml': manifestToml(`lang = "node"\nport = ${port}\nrun = "node server.js"\ntest = ${JSON.stringify(test)}`, name),
    'server.js': `require('node:http').createServer((req, res) => res.end('${name}')).listen(Number(process.env.PORT));\n`,
  });
}

describe('a node whose one deploy slot is taken by an app with a hung test', () => {
  it('runs a small app sent after it while the first still tests', async () => {
    const stuck = await api.createDeployment(await appRepo('stuck-app', `sleep ${HANG_SECONDS}`), 'main');
    stack.deploymentIds.add(stuck);
    await eventually(async () => (await statusOf(stuck)).status === 'TESTING_DEPLOYMENT', 60_000, `${stuck} TESTING_DEPLOYMENT`);

    const quick = await api.createDeployment(await appRepo('quick-app', ''), 'main');
    stack.deploymentIds.add(quick);
    await eventually(
      async () => {
        const current = await statusOf(quick);
        if (current.status === 'ERRORED') throw new StopWaiting(`${quick} ERRORED: ${current.statusMessage ?? ''}`);
        return current.status === 'RUNNING';
      },
      60_000,
      `${quick} RUNNING`,
    );
    // it ran while the first one's test still hung
    expect((await statusOf(stuck)).status).toBe('TESTING_DEPLOYMENT');

    await eventually(async () => (await statusOf(stuck)).status === 'RUNNING', (HANG_SECONDS + 60) * 1000, `${stuck} RUNNING once its test ended`);
    for (const id of [stuck, quick]) await api.data('mutation ($id: String!) { cancelDeployment(deploymentId: $id) }', { id });
    for (const id of [stuck, quick]) await eventually(async () => (await statusOf(id)).status === 'DESTROYED', 60_000, `${id} DESTROYED`);
  });
});
