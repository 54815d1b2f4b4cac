// Issue 15: a node whose Docker engine stops, while the node itself stays up. Its containers'
// deployments move with a reason naming the engine; the node is not reported dead. Each Docker
// host has an engine of its own (startNetnsDockerd), so stopping one touches nothing else.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { eventually, gitFixtureRepo, manifestToml, startNetnsDockerd, tempDir } from '@kraken/testing';
import type { NetnsDockerd, TempDir } from '@kraken/testing';
import type { ClusterHarness } from './harness.js';
import { startClusterHarness } from './harness.js';

const run = promisify(execFile);
/** The static template's base image, built by tools/services (2 MB): copied into each lab engine, no registry. */
const BASE_IMAGE = 'kraken-base/static:1';

interface DeploymentRow {
  id: string;
  status: string;
  node: string | null;
  deploymentUrl: string | null;
  placementReason: string | null;
}

describe('a node whose Docker engine stops', () => {
  let cluster: ClusterHarness;
  let dir: TempDir;
  const engines = new Map<number, NetnsDockerd>();

  const api = () => cluster.agents[1]?.apiUrl ?? '';
  const deployment = async (id: string) =>
    (
      await cluster.graphql<{ getDeployment: DeploymentRow }>(
        api(),
        'query($id: String!) { getDeployment(deploymentId: $id) { id status node deploymentUrl placementReason } }',
        { variables: { id } },
      )
    ).getDeployment;
  const nodeStates = async () =>
    Object.fromEntries((await cluster.graphql<{ getNodes: { id: string; state: string }[] }>(api(), '{ getNodes { id state } }')).getNodes.map((n) => [n.id, n.state]));

  beforeAll(async () => {
    cluster = await startClusterHarness({ hosts: 3, name: 'ke' });
    dir = await tempDir('kraken-engine-down-');
    for (const index of [2, 3]) {
      const engine = await startNetnsDockerd(cluster.lab, index);
      engines.set(index, engine);
      await run('sh', ['-c', 'docker save "$0" | docker -H "unix://$1" load', BASE_IMAGE, engine.socketPath], { timeout: 120_000 });
    }
  }, 300_000);

  afterAll(async () => {
    await cluster.destroy();
    await Promise.all([...engines.values()].map((engine) => engine.destroy()));
    await dir.remove();
  }, 120_000);

  it("moves its containers' apps, naming the engine, and keeps the node alive", async () => {
    // the leader runs processes; hosts 2 and 3 run Docker apps on their own engines
    cluster.start(1, ['--priority', '0']);
    await cluster.agents[1]?.process.waitFor(/Kraken is running/, 120_000);
    for (const [index, engine] of engines) {
      cluster.start(index, ['--priority', '2', '--join', api(), '--runtime', 'docker', '--docker-socket', engine.socketPath]);
    }
    await eventually(async () => Object.values(await nodeStates()).filter((state) => state === 'ALIVE').length === 3, 60_000, 'three nodes alive', 1_000);

    const repo = await gitFixtureRepo(path.join(dir.path, 'site'), {
      'shipwreck.toml': manifestToml('port = 8080\nlang = "static"\ntest = ""', 'engine-site'),
      'index.html': '<h1>still here</h1>\n',
    });
    const created = await cluster.kraken(1, ['deploy', repo, '--json', '--data-dir', cluster.agents[1]?.dataDir ?? '']);
    expect(created.stderr).toBe('');
    const placed = JSON.parse(created.stdout) as DeploymentRow;
    expect(placed.status).toBe('RUNNING');
    const victim = Number(placed.node?.replace('agent-', ''));
    expect([2, 3]).toContain(victim);
    const survivor = victim === 2 ? 'agent-3' : 'agent-2';

    const stoppedAt = Date.now();
    const engine = engines.get(victim);
    engine?.process.kill('SIGTERM');
    await engine?.process.exited;
    const moved = await eventually(
      async () => {
        const now = await deployment(placed.id);
        return now.status === 'RUNNING' && now.node === survivor ? now : undefined;
      },
      120_000,
      `the app running on ${survivor}`,
      1_000,
    );
    console.log(`engine on agent-${victim} stopped: its app ran on ${survivor} ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s later`);
    expect(moved.placementReason).toMatch(new RegExp(`^the Docker engine on agent-${victim} has not answered for \\d+ s \\(the node is up; its other apps stay\\); ${survivor}: `));
    expect((await fetch(moved.deploymentUrl ?? '', { signal: AbortSignal.timeout(5_000) })).status).toBe(200);
    expect((await nodeStates())[`agent-${victim}`]).toBe('ALIVE');
    expect(cluster.agents[1]?.process.output()).not.toMatch(new RegExp(`node agent-${victim} is (dead|suspect)`));
  }, 600_000);
});
