// Issue 6 acceptance in a lab of network namespaces: agents find each other with no addresses
// given, a deployment made with `kraken deploy` runs, and joining needs the right token. mDNS and
// the subnet scan only ever reach the lab's own hosts, and the cluster has a RabbitMQ vhost of its
// own: it passes while another Kraken runs on this machine.
import path from 'node:path';
import { gitFixtureRepo, manifestToml, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { ClusterHarness } from './harness.js';
import { startClusterHarness } from './harness.js';

const elapsedSince = (started: number) => `${((Date.now() - started) / 1000).toFixed(2)} s`;

describe('a cluster of agents in network namespaces', () => {
  let cluster: ClusterHarness;
  let dir: TempDir;
  const timings: Record<string, string> = {};

  beforeAll(async () => {
    cluster = await startClusterHarness({ hosts: 5 });
    dir = await tempDir('kraken-cluster-app-');
  }, 120_000);

  afterAll(async () => {
    console.log(`cluster timings: ${JSON.stringify(timings)}`);
    await cluster.destroy();
    await dir.remove();
  }, 120_000);

  it('three agents started together with no addresses: one leads, the others find it by mDNS and join', async () => {
    const started = Date.now();
    const agents = [1, 2, 3].map((index) => cluster.start(index, ['--priority', String(index - 1)]));
    let leaderUp = 0;
    await Promise.all(
      agents.map(async (agent) => {
        await agent.process.waitFor(/joined the cluster|Kraken is running/, 120_000);
        if (/Kraken is running/.test(agent.process.output())) leaderUp = Date.now();
        else timings[`agent${agent.index}JoinedAfterLeaderUp`] = `${((Date.now() - leaderUp) / 1000).toFixed(2)} s`;
      }),
    );
    const leaders = agents.filter((agent) => /no orchestrator found: leading this cluster/.test(agent.process.output()));
    expect(leaders.map((agent) => agent.index)).toEqual([1]);
    for (const agent of agents.slice(1)) {
      // an mDNS advert names a port; the agent asks it over TLS
      expect(agent.process.output()).toContain(`joining the orchestrator at https://${cluster.lab.host(1).address}:4000`);
      expect(agent.process.output()).toMatch(/"found":"mdns"/);
      timings[`agent${agent.index}Joined`] = elapsedSince(started);
    }
    const nodes = await cluster.kraken(1, ['nodes', '--json', '--data-dir', agents[0]?.dataDir ?? '']);
    expect(nodes.code).toBe(0);
    const ids = (JSON.parse(nodes.stdout) as { id: string; state: string }[]).filter((node) => node.state === 'ALIVE').map((node) => node.id);
    expect(ids.sort()).toEqual(['agent-1', 'agent-2', 'agent-3']);
  }, 180_000);

  it('kraken deploy places the app on a worker and it answers HTTP 200', async () => {
    const repo = await gitFixtureRepo(path.join(dir.path, 'app'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'cluster-app'),
      'server.js': "require('http').createServer((q, s) => s.end('hello from ' + require('os').hostname())).listen(process.env.PORT);",
    });
    const leader = cluster.agents[1];
    const result = await cluster.kraken(1, ['deploy', repo, '--json', '--data-dir', leader?.dataDir ?? '']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const deployment = JSON.parse(result.stdout) as { status: string; node: string; deploymentUrl: string; placementReason: string };
    expect(deployment.status).toBe('RUNNING');
    expect(['agent-1', 'agent-2', 'agent-3']).toContain(deployment.node);
    expect(deployment.placementReason).toMatch(/\S/);
    const response = await fetch(deployment.deploymentUrl);
    expect(response.status).toBe(200);
  }, 300_000);

  it('refuses an agent with a wrong join token, and the orchestrator logs it', async () => {
    const leader = cluster.agents[1];
    const intruder = cluster.start(4, ['--join', leader?.apiUrl ?? '', '--join-token', 'not-the-token', '--no-mdns']);
    await expect(intruder.process.exited).resolves.toBe(5);
    expect(intruder.process.output()).toMatch(/refused the join token/);
    await leader?.process.waitFor(/join refused|refused a join|invalid join token/i, 10_000);
  }, 120_000);

  it('with mDNS off, --join URL still joins', async () => {
    const leader = cluster.agents[1];
    const joiner = cluster.start(4, ['--join', leader?.apiUrl ?? '', '--no-mdns']);
    await joiner.process.waitFor(/joined the cluster/, 120_000);
    expect(joiner.process.output()).toMatch(/"found":"join"/);
    await cluster.kill(4);
  }, 180_000);

  it('with mDNS off, the opt-in subnet scan finds the orchestrator', async () => {
    const started = Date.now();
    const scanner = cluster.start(5, ['--no-mdns', '--scan-interface', 'eth0', '--priority', '2']);
    await scanner.process.waitFor(/joined the cluster/, 120_000);
    timings['scanJoined'] = elapsedSince(started);
    expect(scanner.process.output()).toMatch(/"found":"scan"/);
    expect(scanner.process.output()).toMatch(/subnet scan done.*"cidr":"\d+\.\d+\.\d+\.0\/24"/);
    // the lab's own leader, never whatever this machine serves on the bridge's address (e.g. its own Kraken)
    expect(scanner.process.output()).toContain(`joining the orchestrator at ${cluster.agents[1]?.apiUrl ?? '(no leader)'}`);
    expect(scanner.process.output()).not.toContain(`://${cluster.lab.hostAddress}:`);
  }, 180_000);
});
