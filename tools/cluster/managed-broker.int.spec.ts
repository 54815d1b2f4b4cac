// Issue 13, items 1 and 2: `kraken agent` with nothing but a join token builds a cluster. The
// leading agent runs its own RabbitMQ node (no --broker-url, no user made by hand); each joining
// node gets a broker user of its own that can consume only its own queue and cannot speak for
// another node. Hosts are network namespaces; the apps run as processes.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { AmqpBroker } from '@kraken/broker';
import { LEADER_TOPIC, STATE_TOPIC } from '@kraken/orchestrator';
import { ErrorCode } from '@kraken/common';
import { DeploymentStatus, MessageType, Queues, createMessage } from '@kraken/messages';
import type { JoinAnswer } from '@kraken/messages';
import { eventually, gitFixtureRepo, manifestToml, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { ClusterHarness } from './harness.js';
import { API_PORT, BROKER_PORT, startClusterHarness } from './harness.js';

describe('a cluster whose leader runs its own RabbitMQ node', () => {
  let cluster: ClusterHarness;
  let dir: TempDir;
  const brokers: AmqpBroker[] = [];

  beforeAll(async () => {
    cluster = await startClusterHarness({ hosts: 4, name: 'km', managedBroker: true });
    dir = await tempDir('kraken-managed-broker-');
  }, 120_000);

  afterAll(async () => {
    for (const broker of brokers) await broker.close();
    await cluster.destroy();
    await dir.remove();
  }, 120_000);

  it('forms with only a join token: the leader starts RabbitMQ, agents that may lead join its RabbitMQ cluster, all get users of their own', async () => {
    // priorities: 1 leads, 2 and 3 may lead (standbys), 4 never does (a plain worker)
    const agents = [0, 1, 1, 2].map((priority, i) => cluster.start(i + 1, ['--priority', String(priority)]));
    // 'agent running' comes once its executors are up: for a standby, after its RabbitMQ node joined
    await Promise.all(agents.map((agent) => agent.process.waitFor(/agent running/, 240_000)));
    const [leader, ...joiners] = agents;
    expect(leader?.process.output()).toMatch(/RabbitMQ node ready/);
    expect(leader?.process.output()).toMatch(/Add a machine: kraken agent --join/);
    const leaderAddress = cluster.lab.host(1).address;
    for (const joiner of joiners) {
      expect(joiner.process.output()).toContain(`"broker":"amqp://kraken-node-agent-${joiner.index}:***@${leaderAddress}:${BROKER_PORT}?heartbeat=5"`);
      expect(leader?.process.output()).toContain(`"user":"kraken-node-agent-${joiner.index}"`);
    }
    // the standbys run members of one RabbitMQ cluster; the worker runs none
    for (const standby of joiners.slice(0, 2)) expect(standby.process.output()).toMatch(/this RabbitMQ node is a member of the cluster/);
    expect(joiners[2]?.process.output()).not.toMatch(/RabbitMQ node ready/);
    await leader?.process.waitFor(/the RabbitMQ cluster now survives losing a node/, 120_000);

    // every quorum queue has a replica on each of the three members
    const members = [1, 2, 3].map((index) => `kraken-agent-${index}@${cluster.lab.host(index).address}`);
    const quorum = JSON.parse(await cluster.rabbitCli(1, 'rabbitmq-queues', ['quorum_status', Queues.Orchestrator, '--formatter', 'json'])) as { 'Node Name': string }[];
    expect(quorum.map((member) => member['Node Name']).sort()).toEqual(members);

    const nodes = await cluster.kraken(1, ['nodes', '--json', '--data-dir', leader?.dataDir ?? '']);
    expect(nodes.code).toBe(0);
    expect((JSON.parse(nodes.stdout) as { id: string; state: string }[]).filter((n) => n.state === 'ALIVE').map((n) => n.id).sort()).toEqual([
      'agent-1',
      'agent-2',
      'agent-3',
      'agent-4',
    ]);
    const status = await eventually(async () => {
      const shown = await cluster.kraken(1, ['status', '--data-dir', leader?.dataDir ?? '']);
      return /RabbitMQ cluster: 3 of 3 nodes running/.test(shown.stdout) && shown.stdout;
    }, 30_000, 'kraken status listing the three RabbitMQ nodes');
    expect(status).toMatch(/broker\s+up: this agent's RabbitMQ node/);
    expect(status).toMatch(/failover\s+up: leader agent-1; standbys: agent-2, agent-3 \(one takes over if the leader fails\)/);
  }, 300_000);

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

  it("keeps a live copy of the leader's store on each standby: every deployment and status", async () => {
    const view = (index: number) => {
      const db = new Database(path.join(cluster.agents[index]?.dataDir ?? '', 'orchestrator.db'), { readonly: true, fileMustExist: true });
      try {
        return {
          deployments: db.prepare('SELECT id, status, node_id FROM deployments ORDER BY id').all(),
          history: db.prepare('SELECT deployment_id, status, at FROM deployment_status_history ORDER BY deployment_id, at, status').all(),
        };
      } finally {
        db.close();
      }
    };
    const leader = view(1);
    expect(leader.deployments).toHaveLength(3);
    for (const standby of [2, 3]) {
      await eventually(() => JSON.stringify(view(standby)) === JSON.stringify(leader), 60_000, `standby agent-${String(standby)} holding the leader's deployments and histories`);
    }
    // a plain worker keeps no copy
    expect(() => view(4)).toThrow(/unable to open|does not exist/);
  }, 120_000);

  it("gives an intruder with a valid join token no way to read another node's queue or speak for it", async () => {
    const leaderApi = `https://${cluster.lab.host(1).address}:${API_PORT}`;
    const joined = await fetch(`${leaderApi}/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: cluster.joinToken, nodeId: 'intruder', protocolVersion: 1 }),
    });
    expect(joined.status).toBe(200);
    const { brokerUrl } = (await joined.json()) as JoinAnswer;
    expect(new URL(brokerUrl).username).toBe('kraken-node-intruder');
    const intruder = await AmqpBroker.create({ url: brokerUrl });
    brokers.push(intruder);

    await expect(intruder.consume(Queues.node('agent-2'), () => undefined)).rejects.toMatchObject({ code: ErrorCode.Unauthorized });
    // nor follow the leader's store (its changes carry the cluster's tokens); where the leader is, it may hear
    await expect(intruder.subscribe(STATE_TOPIC, () => undefined)).rejects.toMatchObject({ code: ErrorCode.Unauthorized });
    await (await intruder.subscribe(LEADER_TOPIC, () => undefined)).cancel();

    const forged = createMessage(
      MessageType.DeployStatus,
      { deploymentId: 'any-deployment', status: DeploymentStatus.Errored, message: 'forged', at: new Date().toISOString(), nodeId: 'agent-2' },
      { from: 'agent-2' },
    );
    await intruder.publish(Queues.Orchestrator, forged);
    await cluster.agents[1]?.process.waitFor(/refused a message sent as another node.*"from":"agent-2".*"publisher":"kraken-node-intruder"/, 30_000);
  }, 120_000);

  it("survives its leader's host dying: a standby takes over with every deployment, the API answers there, deploys go on, apps elsewhere never stop", async () => {
    const token = await cluster.apiToken();
    type Listed = {
      getDeployments: { id: string; status: string; node: string | null; deploymentUrl: string | null; statusHistory: { status: string; time: number }[] }[];
    };
    const listQuery = 'query { getDeployments { id status node deploymentUrl statusHistory { status time } } }';
    const logOf = async (api: string, id: string) =>
      (await (await fetch(`${api}/log/${id}`, { headers: { authorization: `Bearer ${token}` } })).text()).split('\n').filter(Boolean);
    const leaderApi = cluster.agents[1]?.apiUrl ?? '';
    const before = (await cluster.graphql<Listed>(leaderApi, listQuery)).getDeployments;
    const logsBefore = new Map(await Promise.all(before.map(async (deployment) => [deployment.id, await logOf(leaderApi, deployment.id)] as const)));
    expect(before.length).toBeGreaterThanOrEqual(3);

    // apps on the other hosts are polled all through the failover: none may stop answering
    const elsewhere = before.filter((deployment) => deployment.node !== 'agent-1' && deployment.deploymentUrl !== null);
    let polls = 0;
    const failures: string[] = [];
    const poll = { on: true };
    const poller = (async () => {
      while (poll.on) {
        for (const deployment of elsewhere) {
          polls++;
          try {
            const answer = await fetch(deployment.deploymentUrl ?? '', { signal: AbortSignal.timeout(2_000) });
            if (answer.status !== 200) failures.push(`${deployment.id}: HTTP ${answer.status}`);
          } catch (error) {
            failures.push(`${deployment.id}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        await sleep(200);
      }
    })();

    // every process of host 1 dies at once: its agent, its RabbitMQ node, its apps
    const killedAt = Date.now();
    await cluster.killHost(1);
    const { api, index } = await eventually(async () => {
      for (const candidate of [2, 3]) {
        // every agent answers the API now (one that does not lead forwards): ask the one that took over
        if (!/took over as the orchestrator/.test(cluster.agents[candidate]?.process.output() ?? '')) continue;
        const api = cluster.agents[candidate]?.apiUrl ?? '';
        try {
          await cluster.graphql<Listed>(api, listQuery);
          return { api, index: candidate };
        } catch {
          // not leading (yet)
        }
      }
      return undefined;
    }, 60_000, 'a standby answering the API');
    const answeredAfterMs = Date.now() - killedAt;
    process.stderr.write(`[failover] the API answered at agent-${String(index)} ${String(answeredAfterMs)} ms after the leader's host died\n`);
    expect(cluster.agents[index]?.process.output()).toMatch(/took over as the orchestrator/);

    // everything acknowledged before the kill is there
    const after = (await cluster.graphql<Listed>(api, listQuery)).getDeployments;
    expect(after.map((deployment) => deployment.id).sort()).toEqual(before.map((deployment) => deployment.id).sort());
    for (const deployment of before) {
      const now = after.find((candidate) => candidate.id === deployment.id);
      // the history goes on (a deployment of the dead host moves), but what was there stays as it was
      expect(now?.statusHistory.slice(0, deployment.statusHistory.length)).toEqual(deployment.statusHistory);
      const lines = await logOf(api, deployment.id);
      expect(lines.slice(0, logsBefore.get(deployment.id)?.length)).toEqual(logsBefore.get(deployment.id));
    }

    // and the cluster takes new work
    const repo = await gitFixtureRepo(path.join(dir.path, 'after-failover'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'after-failover'),
      'server.js': "require('http').createServer((q, s) => s.end('still here')).listen(process.env.PORT);",
    });
    const deployed = await cluster.kraken(index, ['deploy', repo, '--json', '--api', api, '--token', token]);
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(0);
    const created = JSON.parse(deployed.stdout) as { status: string; deploymentUrl: string };
    expect(created.status).toBe('RUNNING');
    expect((await fetch(created.deploymentUrl)).status).toBe(200);

    poll.on = false;
    await poller;
    expect(polls).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  }, 300_000);
});
