// Issue 13, items 1 and 2: `kraken agent` with nothing but a join token builds a cluster. The
// leading agent runs its own RabbitMQ node (no --broker-url, no user made by hand); each joining
// node gets a broker user of its own that can consume only its own queue and cannot speak for
// another node. Hosts are network namespaces; the apps run as processes.
import path from 'node:path';
import { AmqpBroker } from '@kraken/broker';
import { ErrorCode } from '@kraken/common';
import { DeploymentStatus, MessageType, Queues, createMessage } from '@kraken/messages';
import { gitFixtureRepo, manifestToml, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { ClusterHarness } from './harness.js';
import { API_PORT, BROKER_PORT, startClusterHarness } from './harness.js';

describe('a cluster whose leader runs its own RabbitMQ node', () => {
  let cluster: ClusterHarness;
  let dir: TempDir;
  const brokers: AmqpBroker[] = [];

  beforeAll(async () => {
    cluster = await startClusterHarness({ hosts: 3, name: 'km', managedBroker: true });
    dir = await tempDir('kraken-managed-broker-');
  }, 120_000);

  afterAll(async () => {
    for (const broker of brokers) await broker.close();
    await cluster.destroy();
    await dir.remove();
  }, 120_000);

  it('forms with only a join token: the leader starts RabbitMQ, the others join with users of their own', async () => {
    const agents = [1, 2, 3].map((index) => cluster.start(index, ['--priority', String(index - 1)]));
    await Promise.all(agents.map((agent) => agent.process.waitFor(/joined the cluster|Kraken is running/, 180_000)));
    const [leader, ...joiners] = agents;
    expect(leader?.process.output()).toMatch(/RabbitMQ node ready/);
    expect(leader?.process.output()).toMatch(/Add a machine: kraken agent --join/);
    const leaderAddress = cluster.lab.host(1).address;
    for (const joiner of joiners) {
      expect(joiner.process.output()).toContain(`"broker":"amqp://kraken-node-agent-${joiner.index}:***@${leaderAddress}:${BROKER_PORT}"`);
      expect(joiner.process.output()).not.toMatch(/RabbitMQ node ready/);
      expect(leader?.process.output()).toContain(`"user":"kraken-node-agent-${joiner.index}"`);
    }
    const nodes = await cluster.kraken(1, ['nodes', '--json', '--data-dir', leader?.dataDir ?? '']);
    expect(nodes.code).toBe(0);
    expect((JSON.parse(nodes.stdout) as { id: string; state: string }[]).filter((n) => n.state === 'ALIVE').map((n) => n.id).sort()).toEqual([
      'agent-1',
      'agent-2',
      'agent-3',
    ]);
    const status = await cluster.kraken(1, ['status', '--data-dir', leader?.dataDir ?? '']);
    expect(status.stdout).toMatch(/broker\s+up: this agent's RabbitMQ node/);
  }, 240_000);

  it('runs an app on a joined node, which takes its commands and reports with its own credential', async () => {
    const repo = await gitFixtureRepo(path.join(dir.path, 'app'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'managed-app'),
      'server.js': "require('http').createServer((q, s) => s.end('hello')).listen(process.env.PORT);",
    });
    // placement spreads apps over the nodes: three apps, and the joined nodes get some of them
    const nodes = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const result = await cluster.kraken(1, ['deploy', repo, '--json', '--data-dir', cluster.agents[1]?.dataDir ?? '']);
      expect(result.code).toBe(0);
      const deployment = JSON.parse(result.stdout) as { status: string; node: string; deploymentUrl: string };
      expect(deployment.status).toBe('RUNNING');
      expect((await fetch(deployment.deploymentUrl)).status).toBe(200);
      nodes.add(deployment.node);
    }
    expect([...nodes].some((node) => node !== 'agent-1')).toBe(true);
  }, 300_000);

  it("gives an intruder with a valid join token no way to read another node's queue or speak for it", async () => {
    const leaderApi = `http://${cluster.lab.host(1).address}:${API_PORT}`;
    const joined = await fetch(`${leaderApi}/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: cluster.joinToken, nodeId: 'intruder', protocolVersion: 1 }),
    });
    expect(joined.status).toBe(200);
    const { brokerUrl } = (await joined.json()) as { brokerUrl: string };
    expect(new URL(brokerUrl).username).toBe('kraken-node-intruder');
    const intruder = await AmqpBroker.create({ url: brokerUrl });
    brokers.push(intruder);

    await expect(intruder.consume(Queues.node('agent-2'), () => undefined)).rejects.toMatchObject({ code: ErrorCode.Unauthorized });

    const forged = createMessage(
      MessageType.DeployStatus,
      { deploymentId: 'any-deployment', status: DeploymentStatus.Errored, message: 'forged', at: new Date().toISOString(), nodeId: 'agent-2' },
      { from: 'agent-2' },
    );
    await intruder.publish(Queues.Orchestrator, forged);
    await cluster.agents[1]?.process.waitFor(/refused a message sent as another node.*"from":"agent-2".*"publisher":"kraken-node-intruder"/, 30_000);
  }, 120_000);
});
