// Issue 13, item 5: one leader, fenced. The leader is frozen (SIGSTOP) for 20 s, and later the
// new leader's link is cut for 30 s: a standby takes over each time, the former leader does
// nothing once it wakes or is back (it no longer holds the lease), every worker refuses what a
// former term might still send (leader.elected comes first in its queue), the former leader comes
// back as a standby, and no app runs twice. Hosts are network namespaces; apps run as processes.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { eventually, gitFixtureRepo, manifestToml, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { ClusterHarness } from './harness.js';
import { startClusterHarness } from './harness.js';

const run = promisify(execFile);

interface LogRecord {
  message: string;
  timestamp: string;
  [field: string]: unknown;
}

describe('a cluster whose leader is frozen or cut off', () => {
  let cluster: ClusterHarness;
  let dir: TempDir;
  let token: string;
  const deployments: { id: string; port: number }[] = [];

  beforeAll(async () => {
    cluster = await startClusterHarness({ hosts: 4, name: 'kf', managedBroker: true });
    dir = await tempDir('kraken-leader-fencing-');
    // 1 founds the cluster, 2 and 3 are standbys with RabbitMQ members, 4 only works
    const agents = [0, 1, 1, 2].map((priority, i) => cluster.start(i + 1, ['--priority', String(priority)]));
    await Promise.all(agents.map((agent) => agent.process.waitFor(/agent running/, 240_000)));
    await agents[0]?.process.waitFor(/the RabbitMQ cluster now survives losing a node/, 120_000);
    token = await cluster.apiToken();
    const repo = await gitFixtureRepo(path.join(dir.path, 'app'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'fenced-app'),
      'server.js': "require('http').createServer((q, s) => s.end('hello')).listen(process.env.PORT);",
    });
    for (let i = 0; i < 3; i++) {
      const result = await cluster.kraken(1, ['deploy', repo, '--json', '--data-dir', cluster.agents[1]?.dataDir ?? '']);
      expect(result.code).toBe(0);
      const deployment = JSON.parse(result.stdout) as { id: string; status: string; deploymentUrl: string };
      expect(deployment.status).toBe('RUNNING');
      deployments.push({ id: deployment.id, port: Number(new URL(deployment.deploymentUrl).port) });
    }
  }, 420_000);

  afterAll(async () => {
    await cluster.destroy();
    await dir.remove();
  }, 120_000);

  /** The agent's log records, in order: `HH:MM:SS.mmm level message {fields}` lines. */
  function records(index: number): LogRecord[] {
    return (cluster.agents[index]?.process.output() ?? '').split('\n').flatMap((line) => {
      const parsed = /^(\d\d:\d\d:\d\d\.\d{3}) +\w+ +(.*?)(?: (\{.*\}))?$/.exec(line);
      if (parsed === null) return [];
      try {
        const fields = parsed[3] === undefined ? {} : (JSON.parse(parsed[3]) as Record<string, unknown>);
        return [{ ...fields, timestamp: parsed[1] ?? '', message: parsed[2] ?? '' }];
      } catch {
        return [];
      }
    });
  }

  /** Now as the agents' log lines say it (they run on this machine's clock). */
  function logTime(): string {
    return new Date().toTimeString().slice(0, 8) + `.${String(new Date().getMilliseconds()).padStart(3, '0')}`;
  }

  /** The epochs agent `index` started an orchestrator in. */
  function termsOf(index: number): number[] {
    return records(index).filter((record) => record.message === 'orchestrator started').map((record) => Number(record.epoch));
  }

  /** The agents (of the three that may lead) whose newest term is the highest: the leader. */
  function leaderIndex(): number {
    const newest = [1, 2, 3].map((index) => ({ index, term: Math.max(0, ...termsOf(index)) }));
    const highest = Math.max(...newest.map((entry) => entry.term));
    const leaders = newest.filter((entry) => entry.term === highest);
    if (leaders.length !== 1) throw new Error(`terms ${JSON.stringify(newest)}: not one leader`);
    return leaders[0]?.index ?? 0;
  }

  /** The addresses of the hosts where something listens on a deployment's port. */
  async function listeningHosts(port: number): Promise<string[]> {
    const hosts: string[] = [];
    for (const index of [1, 2, 3, 4]) {
      const host = cluster.lab.host(index);
      const { stdout } = await run('ip', ['netns', 'exec', host.netns, 'ss', '-ltnH', `sport = :${String(port)}`]);
      if (stdout.trim() !== '') hosts.push(host.address);
    }
    return hosts;
  }

  /** On how many hosts something listens on each app's port: 1 each, or an app runs twice. */
  async function instancesPerApp(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const deployment of deployments) counts[deployment.id] = (await listeningHosts(deployment.port)).length;
    return counts;
  }

  /**
   * Freezes or cuts off the leader, keeps it so for `holdMs`, brings it back; then checks that one
   * standby took over meanwhile, that the former leader did nothing after, came back as a standby,
   * that every worker was told of the new term, and that each app runs exactly once.
   */
  async function loseLeaderFor(holdMs: number, lose: (index: number) => Promise<void>, heal: (index: number) => Promise<void>): Promise<void> {
    const former = leaderIndex();
    const formerTerm = Math.max(...termsOf(former));
    const standbys = [1, 2, 3].filter((index) => index !== former);
    const lostAt = Date.now();
    await lose(former);
    const successor = await eventually(
      () => standbys.find((index) => termsOf(index).some((term) => term > formerTerm)),
      holdMs,
      'a standby leading while the leader is gone',
    );
    process.stderr.write(`[fencing] agent-${String(successor)} led ${String(Date.now() - lostAt)} ms after agent-${String(former)} was lost\n`);
    const newTerm = Math.max(...termsOf(successor));
    expect(newTerm).toBeGreaterThan(formerTerm);
    await sleep(Math.max(0, holdMs - (Date.now() - lostAt)));
    const healedAt = logTime();
    await heal(former);

    // the former leader learns it lost the lease, starts again, and follows the successor as a standby
    await cluster.agents[former]?.process.waitFor(/this agent no longer leads: starting again to follow the new leader/, 60_000);
    const rejoined = await eventually(
      () => records(former).find((record) => record.message === 'joined the cluster' && record.timestamp > healedAt),
      120_000,
      `agent-${String(former)} joining again`,
    );
    expect(rejoined.orchestrator).toBe(`agent-${String(successor)}`);
    await eventually(() => records(former).some((record) => record.message === 'agent running' && record.timestamp > healedAt), 240_000, `agent-${String(former)} running again`);
    // its RabbitMQ node started again with the agent, and pauses on the minority side of a split as the others do
    expect((await cluster.rabbitCli(former, 'rabbitmqctl', ['eval', 'application:get_env(rabbit, cluster_partition_handling).'])).trim()).toBe('{ok,pause_minority}');
    // it never led again, and it sent nothing as a leader after it was healed
    expect(Math.max(...termsOf(former))).toBe(formerTerm);
    const leaderActions = new Set([
      'deployment placed',
      'deployment requested',
      're-sent deploy.request after restart',
      'a node no longer had work placed on it (restarted?); sent it again',
      'told a returning node to stop a deployment that moved away',
    ]);
    const actedAfterHeal = records(former).filter((record) => record.timestamp > healedAt && leaderActions.has(record.message));
    expect(actedAfterHeal).toEqual([]);

    // every worker heard of the new term before anything of it; a refusal of the former term is fencing at work
    for (const index of [1, 2, 3, 4]) {
      await eventually(
        () => records(index).some((record) => record.message.startsWith('a new leader was elected') && Number(record.epoch) === newTerm),
        60_000,
        `agent-${String(index)} told of term ${String(newTerm)}`,
      );
      const accepted = records(index).filter((record) => record.message === 'command ignored' && record.reason === 'stale-epoch');
      for (const refusal of accepted) expect(Number(refusal.epoch)).toBeLessThan(Number(refusal.highestEpoch));
    }

    // the successor's API has every deployment, and lists the former leader among its standbys
    const successorApi = cluster.agents[successor]?.apiUrl ?? '';
    const listed = await cluster.graphql<{ getDeployments: { id: string }[] }>(successorApi, 'query { getDeployments { id } }');
    expect(listed.getDeployments.map((deployment) => deployment.id).sort()).toEqual(deployments.map((deployment) => deployment.id).sort());
    await eventually(
      async () => {
        const shown = await cluster.kraken(successor, ['status', '--api', successorApi, '--token', token]);
        return new RegExp(`failover\\s+up: leader agent-${String(successor)}; standbys: .*agent-${String(former)}`).test(shown.stdout);
      },
      120_000,
      `the successor listing agent-${String(former)} as a standby`,
    );

    // the stored history says the same: per deployment, the terms its statuses were recorded in never go back
    const db = new Database(path.join(cluster.agents[successor]?.dataDir ?? '', 'orchestrator.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT deployment_id AS id, epoch FROM deployment_status_history WHERE epoch IS NOT NULL ORDER BY deployment_status_history.id').all() as { id: string; epoch: number }[];
      expect(rows.length).toBeGreaterThan(0);
      for (const deployment of deployments) {
        const terms = rows.filter((row) => row.id === deployment.id).map((row) => row.epoch);
        expect(terms).toEqual([...terms].sort((a, b) => a - b));
        expect(Math.max(...terms)).toBeLessThanOrEqual(newTerm);
      }
    } finally {
      db.close();
    }

    // no app runs twice, and each one answers
    await eventually(async () => Object.values(await instancesPerApp()).every((count) => count === 1), 60_000, 'each app on one host');
    await sleep(5_000);
    expect(Object.values(await instancesPerApp())).toEqual(deployments.map(() => 1));
    // the API names the host the app runs on (its status report may trail the move by a moment), and it answers there
    for (const deployment of deployments) {
      const [runsOn] = await listeningHosts(deployment.port);
      const deploymentUrl = await eventually(
        async () => {
          const { getDeployment } = await cluster.graphql<{ getDeployment: { deploymentUrl: string } }>(successorApi, `query { getDeployment(deploymentId: "${deployment.id}") { deploymentUrl } }`);
          return new URL(getDeployment.deploymentUrl).hostname === runsOn ? getDeployment.deploymentUrl : undefined;
        },
        30_000,
        `the API giving ${runsOn ?? 'the host'} as the address of ${deployment.id}`,
      );
      const answer = await fetch(deploymentUrl, { signal: AbortSignal.timeout(5_000) }).catch((error: unknown) => {
        throw new Error(`${deployment.id} at ${deploymentUrl} did not answer: ${String((error as { cause?: unknown }).cause ?? error)}`);
      });
      expect(answer.status).toBe(200);
    }
  }

  it('a leader frozen for 20 s is replaced, does nothing when it wakes, and comes back as a standby; no app runs twice', async () => {
    await loseLeaderFor(
      20_000,
      (index) => {
        cluster.pause(index);
        return Promise.resolve();
      },
      (index) => {
        cluster.resume(index);
        return Promise.resolve();
      },
    );
  }, 600_000);

  it('a leader cut off for 30 s is replaced, stops on its own side, and comes back as a standby; no app runs twice', async () => {
    await loseLeaderFor(
      30_000,
      (index) => cluster.cut(index),
      (index) => cluster.restore(index),
    );
  }, 600_000);
});
