// Issue 17: apps as people write them listen on a port fixed in their code (the original Kraken's
// sample: `app.listen(7211)` with `port = 7211` in its manifest, and an empty test). Through the
// orchestrator and RabbitMQ, such an app reaches RUNNING and answers, redeploys to a new commit and
// cancels to DESTROYED in both runtimes: in Docker the container port mapped is the app's port; in
// the process runtime, which has no mapping, the app's port is found where its processes listen.
// In a container the app's port is its own, so the Docker case uses 7211 itself; on the host 7211 may
// be taken (a machine that runs another Kraken), so the process case uses a port chosen free when
// the test starts, written into the app's code as a literal all the same.
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { StopWaiting, commitFiles, eventually, fixedPortAppFiles, freePort, gitFixtureRepo } from '@kraken/testing';
import { ApiClient } from './support/api-client.js';
import { appContainersOf } from './support/docker.js';
import { Stack, TOKEN } from './support/stack.js';

jest.setTimeout(400_000);

interface DeploymentView {
  status: string;
  statusMessage: string | null;
  port: string | null;
  deploymentUrl: string | null;
  commit: string | null;
}

const runtimes = ['docker', 'process'] as const;

describe.each(runtimes)('an app fixed on a port of its own, in the %s runtime', (runtime) => {
  let stack: Stack;
  let api: ApiClient;

  beforeAll(async () => {
    stack = await Stack.start();
    api = new ApiClient(stack.server.url, TOKEN);
    const nodeId = stack.newNodeId(`fixed-${runtime}`);
    await stack.startRuntimeWorker(runtime, nodeId);
  });

  afterAll(async () => {
    await api.close();
    await stack.close();
  });

  function view(id: string): Promise<DeploymentView> {
    return api.getDeployment<DeploymentView>(id, 'status statusMessage port deploymentUrl commit');
  }

  function until(id: string, what: string, done: (current: DeploymentView) => boolean): Promise<DeploymentView> {
    return eventually(
      async () => {
        const current = await view(id);
        if (current.status === 'ERRORED') throw new StopWaiting(`${id} ERRORED: ${current.statusMessage ?? '(no message)'}`);
        return done(current) && current;
      },
      300_000,
      `${id} ${what}`,
      250,
    );
  }

  async function answer(url: string | null): Promise<string> {
    const response = await fetch(`${String(url)}/`);
    expect(response.status).toBe(200);
    return response.text();
  }

  it('reaches RUNNING and answers, redeploys to a new commit, and cancels to DESTROYED', async () => {
    const fixed = runtime === 'docker' ? 7211 : await freePort();
    const repo = await gitFixtureRepo(path.join(stack.dir.path, `fixed-${runtime}`), fixedPortAppFiles(fixed, `first ${runtime}`));
    const id = await api.createDeployment(repo, 'main');
    stack.deploymentIds.add(id);

    const running = await until(id, 'RUNNING', (current) => current.status === 'RUNNING');
    // a process answers on the port its code listens on; a container is published on a host port of the cluster's range
    if (runtime === 'process') expect(running.port).toBe(String(fixed));
    else expect(Number(running.port)).toBeGreaterThanOrEqual(stack.portRange.min);
    expect(running.deploymentUrl).toBe(`http://127.0.0.1:${String(running.port)}`);
    expect(await answer(running.deploymentUrl)).toBe(`hello from first ${runtime}`);

    const next = await commitFiles(repo, fixedPortAppFiles(fixed, `second ${runtime}`), 'the next version');
    await expect(api.data('mutation ($id: String!) { pollRedeploy(deploymentId: $id) }', { id })).resolves.toEqual({ pollRedeploy: true });
    const redeployed = await until(id, `RUNNING at ${next}`, (current) => current.status === 'RUNNING' && current.commit === next);
    expect(await answer(redeployed.deploymentUrl)).toBe(`hello from second ${runtime}`);

    await api.data('mutation ($id: String!) { cancelDeployment(deploymentId: $id) }', { id });
    await eventually(async () => (await view(id)).status === 'DESTROYED', 60_000, `${id} DESTROYED`);
    await expect(fetch(`${String(redeployed.deploymentUrl)}/`)).rejects.toThrow();
    if (runtime === 'docker') expect(await appContainersOf(id)).toEqual([]);
  });

  if (runtime === 'process') {
    it('ends ERRORED naming what holds the fixed port when another program has it', async () => {
      const blocker = createServer().listen(0, '0.0.0.0');
      await once(blocker, 'listening');
      const taken = (blocker.address() as { port: number }).port;
      try {
        const repo = await gitFixtureRepo(path.join(stack.dir.path, 'fixed-taken'), fixedPortAppFiles(taken, 'never serves'));
        const id = await api.createDeployment(repo, 'main');
        stack.deploymentIds.add(id);
        const errored = await eventually(async () => {
          const current = await view(id);
          return current.status === 'ERRORED' && current;
        }, 120_000, `${id} ERRORED`);
        expect(errored.statusMessage).toContain(`port ${taken}, which its manifest names, is taken on this node by process ${process.pid} (`);
      } finally {
        blocker.close();
      }
    });
  }
});
