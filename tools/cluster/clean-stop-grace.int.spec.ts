// Issue 15: a worker's agent stopped cleanly (an update, a service restart) says so in a last
// heartbeat. Its apps keep running, so the leader keeps them where they are while it is away,
// instead of taking the silence for a crash and moving them within seconds.
import path from 'node:path';
import { eventually, gitFixtureRepo, manifestToml, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { ClusterHarness } from './harness.js';
import { startClusterHarness } from './harness.js';

/** Longer than a killed node's loss takes to notice on a clean link (about 4 s). */
const AWAY_MS = 12_000;

interface DeploymentRow {
  id: string;
  status: string;
  node: string | null;
  deploymentUrl: string | null;
  statusHistory: { status: string }[];
}

describe("a worker whose agent stops cleanly and comes back", () => {
  let cluster: ClusterHarness;
  let dir: TempDir;

  const api = () => cluster.agents[1]?.apiUrl ?? '';
  const deployments = async () =>
    (await cluster.graphql<{ getDeployments: DeploymentRow[] }>(api(), '{ getDeployments { id status node deploymentUrl statusHistory { status } } }')).getDeployments;
  const node = async (id: string) =>
    (await cluster.graphql<{ getNode: { state: string; noticeLossAfterMs: number | null } }>(api(), 'query($id: String!) { getNode(nodeId: $id) { state noticeLossAfterMs } }', { variables: { id } })).getNode;

  beforeAll(async () => {
    cluster = await startClusterHarness({ hosts: 2, name: 'kg' });
    dir = await tempDir('kraken-clean-stop-');
  }, 120_000);

  afterAll(async () => {
    await cluster.destroy();
    await dir.remove();
  }, 120_000);

  it('keeps its apps where they run while it is away, and moves nothing when it is back', async () => {
    cluster.start(1, ['--priority', '0']);
    await cluster.agents[1]?.process.waitFor(/Kraken is running/, 120_000);
    cluster.start(2, ['--priority', '2', '--join', api()]);
    await eventually(async () => (await node('agent-2').catch(() => undefined))?.state === 'ALIVE', 60_000, 'agent-2 alive', 1_000);

    const repo = await gitFixtureRepo(path.join(dir.path, 'app'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'stays-app'),
      'server.js': "require('http').createServer((q, s) => s.end('up')).listen(process.env.PORT);",
    });
    // two copies: the leader spreads them, so agent-2 runs one
    for (let copy = 0; copy < 2; copy += 1) {
      const result = await cluster.kraken(1, ['deploy', repo, '--json', '--no-follow', '--data-dir', cluster.agents[1]?.dataDir ?? '']);
      expect(result.stderr).toBe('');
    }
    await eventually(async () => { const all = await deployments(); return all.length === 2 && all.every((d) => d.status === 'RUNNING'); }, 240_000, 'two apps running', 1_000);
    const before = await deployments();
    const onWorker = before.find((deployment) => deployment.node === 'agent-2');
    expect(onWorker).toBeDefined();

    const worker = cluster.agents[2];
    worker?.process.kill('SIGTERM');
    await expect(worker?.process.exited).resolves.toBe(0);
    await new Promise((resolve) => setTimeout(resolve, AWAY_MS));
    expect(await node('agent-2')).toEqual({ state: 'SUSPECT', noticeLossAfterMs: 60_000 });
    expect(cluster.agents[1]?.process.output()).toMatch(/node agent-2 is suspect \(its agent stopped; its apps keep running/);
    // its app serves on while the agent is away
    expect((await fetch(onWorker?.deploymentUrl ?? '', { signal: AbortSignal.timeout(5_000) })).status).toBe(200);

    cluster.start(2, ['--priority', '2', '--join', api()]);
    await eventually(async () => (await node('agent-2')).state === 'ALIVE', 60_000, 'agent-2 back', 1_000);
    await eventually(async () => (await deployments()).every((d) => d.status === 'RUNNING'), 60_000, 'both apps running', 1_000);
    // each where it was, and nothing since but the restarted worker saying it runs it (a move would
    // go through DELEGATING_DEPLOYMENT and a build again)
    const after = await deployments();
    expect(after.map((d) => [d.id, d.node])).toEqual(before.map((d) => [d.id, d.node]));
    for (const [index, deployment] of after.entries()) {
      const since = deployment.statusHistory.slice(before[index]?.statusHistory.length).map((entry) => entry.status);
      expect(since.filter((status) => status !== 'RUNNING')).toEqual([]);
    }
    expect(cluster.agents[1]?.process.output()).not.toMatch(/node agent-2 is dead/);
  }, 600_000);
});
