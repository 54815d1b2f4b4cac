// Issue 13 item 7 in a lab of network namespaces: two clusters on one LAN (a classroom, a lab), each
// with its own leader, join token and RabbitMQ vhost. An agent joins the cluster its token is for,
// whichever orchestrator it finds or asks first, and its log names any that refused it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SECRETS_FILE } from '@kraken/orchestrator';
import { eventually } from '@kraken/testing';
import type { ClusterAgent, ClusterHarness } from './harness.js';
import { startClusterHarness } from './harness.js';

interface Leader {
  agent: ClusterAgent;
  clusterId: string;
  joinToken: string;
}

type LogRecord = { message: string; [field: string]: unknown };

/** The agent's log lines (started with --log-format json); the CLI's own output lines are not JSON. */
function logOf(agent: ClusterAgent): LogRecord[] {
  return agent.process
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogRecord);
}

const json = ['--log-format', 'json'];

describe('two clusters in one lab', () => {
  let cluster: ClusterHarness;
  let a: Leader;
  let b: Leader;

  /**
   * Waits until the agent leads and announces; reads its cluster id (secrets file) and its join token
   * where a user does, from its "Add a machine: ... --join-token <token>" line.
   */
  async function leaderOf(agent: ClusterAgent): Promise<Leader> {
    // it announces as soon as it decides to lead; the join token line follows once its API listens
    await agent.process.waitFor(/announced on mDNS/, 180_000);
    await agent.process.waitFor(/Add a machine: .* --join-token \S+/, 180_000);
    const { clusterId } = JSON.parse(await readFile(path.join(agent.dataDir, SECRETS_FILE), 'utf8')) as { clusterId: string };
    const joinToken = /Add a machine: .* --join-token (\S+)/.exec(agent.process.output())?.[1];
    if (joinToken === undefined)
      throw new Error(`agent ${String(agent.index)} printed no join token:\n${agent.process.output()}`);
    return { agent, clusterId, joinToken };
  }

  /** The node ids cluster `leader` lists as alive. */
  async function aliveNodes(leader: Leader): Promise<string[]> {
    const nodes = await cluster.kraken(leader.agent.index, ['nodes', '--json', '--data-dir', leader.agent.dataDir]);
    if (nodes.code !== 0) throw new Error(`kraken nodes exited ${String(nodes.code)}: ${nodes.stderr}`);
    return (JSON.parse(nodes.stdout) as { id: string; state: string }[])
      .filter((node) => node.state === 'ALIVE')
      .map((node) => node.id)
      .sort();
  }

  /** Says, from its log, that `agent` joined `own` and that every orchestrator it asked before was refusing. */
  function expectJoined(agent: ClusterAgent, own: Leader, other: Leader): void {
    const log = logOf(agent);
    expect(log.find((record) => record.message === 'joined the cluster')).toMatchObject({
      clusterId: own.clusterId,
      url: own.agent.apiUrl,
    });
    const asked = log
      .filter((record) => record.message.startsWith('joining the orchestrator at '))
      .map((record) => record['url']);
    expect(asked.at(-1)).toBe(own.agent.apiUrl);
    if (asked.includes(other.agent.apiUrl)) {
      expect(
        log.find((record) => record.message === `the orchestrator at ${other.agent.apiUrl} refused this agent`),
      ).toMatchObject({
        clusterId: other.clusterId,
        code: 'UNAUTHORIZED',
        // the token names its cluster's CA: the other leader is refused before it is sent anything
        reason: expect.stringMatching(/presented no certificate authority with the join token's digest/) as unknown,
      });
    }
  }

  beforeAll(async () => {
    cluster = await startClusterHarness({ hosts: 6, name: 'kc-two' });
    a = await leaderOf(cluster.start(1, json, { brokerUrl: await cluster.clusterBroker() }));
    // A already announces: B's leader finds it, and with no join token it founds a cluster of its own
    b = await leaderOf(cluster.start(2, json, { brokerUrl: await cluster.clusterBroker(), joinToken: null }));
  }, 420_000);

  afterAll(async () => {
    await cluster.destroy();
  }, 120_000);

  it('a second leader with no join token founds its own cluster beside the first, naming the orchestrator it passed over', () => {
    expect(b.clusterId).not.toBe(a.clusterId);
    expect(b.joinToken).not.toBe(a.joinToken);
    expect(logOf(b.agent).find((record) => record.message.startsWith('leading a new cluster'))).toMatchObject({
      passedOver: [`${a.agent.apiUrl} (cluster ${a.clusterId})`],
    });
  });

  it('agents found by mDNS join the cluster their token is for, whichever orchestrator answers first', async () => {
    // a long settle after the first answer: the machine is shared and loaded, and both must be seen
    const mdnsAgent = ['--priority', '2', '--discovery-timeout', '5s'];
    const toB = cluster.start(3, [...json, ...mdnsAgent], { joinToken: b.joinToken });
    const toA = cluster.start(4, [...json, ...mdnsAgent], { joinToken: a.joinToken });
    await Promise.all([toB, toA].map((agent) => agent.process.waitFor(/joined the cluster/, 180_000)));

    expectJoined(toB, b, a);
    expectJoined(toA, a, b);
    for (const agent of [toB, toA]) {
      expect(logOf(agent).find((record) => record.message === 'orchestrators to try')).toMatchObject({
        candidates: expect.arrayContaining([
          `${a.agent.apiUrl} (cluster ${a.clusterId})`,
          `${b.agent.apiUrl} (cluster ${b.clusterId})`,
        ]) as unknown,
      });
    }
    // each cluster has the node that joined it, and only that one
    await eventually(
      async () => (await aliveNodes(b)).join() === 'agent-2,agent-3',
      120_000,
      'cluster B lists agent-2 and agent-3',
    );
    await eventually(
      async () => (await aliveNodes(a)).join() === 'agent-1,agent-4',
      120_000,
      'cluster A lists agent-1 and agent-4',
    );
  }, 300_000);

  it("an agent scanning the subnet asks A first (lower address), is refused, and joins B with B's token", async () => {
    const scanner = cluster.start(
      5,
      [...json, '--no-mdns', '--scan-interface', cluster.lab.host(5).interfaceName, '--priority', '2'],
      {
        joinToken: b.joinToken,
      },
    );
    await scanner.process.waitFor(/joined the cluster/, 180_000);

    const log = logOf(scanner);
    const leaders = [a.agent.apiUrl, b.agent.apiUrl];
    const asked = log.filter(
      (record) => record.message.startsWith('joining the orchestrator at ') && leaders.includes(record['url'] as string),
    );
    expect(asked.map((record) => [record['url'], record['found']])).toEqual([
      [a.agent.apiUrl, 'scan'],
      [b.agent.apiUrl, 'scan'],
    ]);
    expect(log.find((record) => record.message === `the orchestrator at ${a.agent.apiUrl} refused this agent`)).toMatchObject({
      clusterId: a.clusterId,
      found: 'scan',
      code: 'UNAUTHORIZED',
    });
    expectJoined(scanner, b, a);
    // this machine's own address on the bridge is in the subnet too, and may answer /ping before A
    expect(log.find((record) => record.message.startsWith(`joined the orchestrator at ${b.agent.apiUrl} after`))).toMatchObject({
      refusedBy: expect.arrayContaining([a.agent.apiUrl]) as unknown,
    });
    await eventually(async () => (await aliveNodes(b)).includes('agent-5'), 120_000, 'cluster B lists agent-5');
  }, 300_000);

  it("an agent whose token neither cluster takes exits 5, naming both orchestrators' refusals", async () => {
    // mDNS only: the scan would also reach this machine's address on the bridge, and whatever answers there
    const stranger = cluster.start(6, [...json, '--priority', '2', '--discovery-timeout', '5s'], {
      joinToken: 'a-token-of-no-cluster-here',
    });

    await expect(stranger.process.exited).resolves.toBe(5);
    const error = stranger.process
      .output()
      .split('\n')
      .find((line) => line.startsWith('kraken: '));
    expect(error).toMatch(/^kraken: none of the 2 orchestrators found accepted this agent: check --join-token/);
    for (const leader of [a, b]) expect(error).toContain(`the orchestrator at ${leader.agent.apiUrl} refused the join token`);
  }, 300_000);
});
