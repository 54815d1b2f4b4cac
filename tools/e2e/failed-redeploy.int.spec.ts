// Issue 19: a failed build, test or ready check leaves the old version serving, with the error
// shown. Through the orchestrator, RabbitMQ and a worker of each runtime: the Docker runtime builds
// beside the running container; the process runtime stops the old version for the build and, when
// the new one fails, starts the old one again from its kept build.
import { StopWaiting, commitFiles, eventually, manifestToml } from '@kraken/testing';
import { ApiClient } from './support/api-client.js';
import { appFiles, appRepo } from './support/fixtures.js';
import { Stack, TOKEN } from './support/stack.js';

jest.setTimeout(400_000);

interface DeploymentView {
  status: string;
  statusMessage: string | null;
  deploymentUrl: string | null;
  commit: string | null;
}

const runtimes = ['docker', 'process'] as const;

describe.each(runtimes)('a redeploy whose new commit fails its test, in the %s runtime', (runtime) => {
  let stack: Stack;
  let api: ApiClient;

  beforeAll(async () => {
    stack = await Stack.start();
    api = new ApiClient(stack.server.url, TOKEN);
    await stack.startRuntimeWorker(runtime, stack.newNodeId(`redeploy-${runtime}`));
  });

  afterAll(async () => {
    await api.close();
    await stack.close();
  });

  function view(id: string): Promise<DeploymentView> {
    return api.getDeployment<DeploymentView>(id, 'status statusMessage deploymentUrl commit');
  }

  it('keeps the version before serving, Running at its commit, and says the redeploy failed and why', async () => {
    const repo = await appRepo(stack.dir.path, `redeploy-${runtime}`, 'node', `first ${runtime}`);
    const id = await api.createDeployment(repo, 'main');
    stack.deploymentIds.add(id);
    const running = await eventually(
      async () => {
        const current = await view(id);
        if (current.status === 'ERRORED') throw new StopWaiting(`${id} ERRORED: ${current.statusMessage ?? '(no message)'}`);
        return current.status === 'RUNNING' && current;
      },
      300_000,
      `${id} RUNNING`,
      250,
    );
    expect(await (await fetch(`${String(running.deploymentUrl)}/`)).text()).toBe(`hello from first ${runtime}`);

    const failing = { ...appFiles('node', `second ${runtime}`), 'shipwreck.toml': manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "exit 3"', 'e2e-node') };
    await commitFiles(repo, failing, 'a version whose test fails');
    await expect(api.data('mutation ($id: String!) { pollRedeploy(deploymentId: $id) }', { id })).resolves.toEqual({ pollRedeploy: true });

    const after = await eventually(
      async () => {
        const current = await view(id);
        return current.status === 'RUNNING' && (current.statusMessage ?? '').startsWith('redeploy failed') && current;
      },
      300_000,
      `${id} Running with the failed redeploy said`,
      250,
    );
    expect(after.commit).toBe(running.commit);
    expect(after.statusMessage).toMatch(/test command.* failed with exit code 3.*; the previous version \(\w{7}\) keeps running$/s);
    expect(await (await fetch(`${String(after.deploymentUrl)}/`)).text()).toBe(`hello from first ${runtime}`);
  });
});
