// Issue 15: an agent that starts again in the same process (here: a leader paused long enough for a
// standby to take the lease, which then steps down) keeps its RabbitMQ node running across that
// restart. Stopping it took a member out of the RabbitMQ cluster's majority: in the 30-minute chaos
// run two agents did so at once, the lease holder's node paused on the minority side, and no
// leader lasted. Hosts are network namespaces; every agent runs a RabbitMQ node of its own.
import { eventually } from '@kraken/testing';
import type { ClusterHarness } from './harness.js';
import { startClusterHarness } from './harness.js';

/** What `rabbitmqctl cluster_status --formatter json` says of the members. */
type ClusterStatus = { running_nodes: string[] };

describe('an agent that starts again in the same process', () => {
  let cluster: ClusterHarness;

  beforeAll(async () => {
    cluster = await startClusterHarness({ hosts: 3, name: 'kb', managedBroker: true });
    const founder = cluster.start(1, ['--priority', '0']);
    await founder.process.waitFor(/Kraken is running/, 180_000);
    for (const index of [2, 3]) await cluster.start(index, ['--priority', '1', '--join', founder.apiUrl]).process.waitFor(/agent running/, 240_000);
    await founder.process.waitFor(/the RabbitMQ cluster now survives losing a node/, 120_000);
  }, 480_000);

  afterAll(async () => {
    await cluster.destroy();
  }, 120_000);

  it('keeps its RabbitMQ node running, and the RabbitMQ cluster keeps all three members', async () => {
    const founder = cluster.agents[1];
    const nodeBefore = await cluster.brokerNodeGroup(1);
    expect(nodeBefore).toBeDefined();

    // frozen past its lease: a standby takes over, and the founder, woken, steps down and starts again
    cluster.pause(1);
    const leader = await eventually(() => [2, 3].find((index) => /took over as the orchestrator/.test(cluster.agents[index]?.process.output() ?? '')), 120_000, 'a standby taking over');
    // it led with a copy that had caught up with its queue: every write the founder answered
    expect(cluster.agents[leader]?.process.output() ?? '').toMatch(/the copy of the store caught up with its queue/);
    cluster.resume(1);
    await founder?.process.waitFor(/no longer leads: starting again to follow the new leader/, 60_000);
    await founder?.process.waitFor(/this agent's RabbitMQ node runs on from its previous start/, 120_000);
    await eventually(() => (founder?.process.output().match(/agent running/g) ?? []).length >= 2 || undefined, 240_000, 'the founder running again, as a standby');

    expect(await cluster.brokerNodeGroup(1)).toBe(nodeBefore);
    const status = JSON.parse(await cluster.rabbitCli(2, 'rabbitmqctl', ['cluster_status', '--formatter', 'json'])) as ClusterStatus;
    expect(status.running_nodes).toHaveLength(3);
  }, 600_000);
});
