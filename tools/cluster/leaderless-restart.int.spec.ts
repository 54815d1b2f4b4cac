// Issue 15: a cluster in which no machine leads comes back on its own. The founder's host dies for
// good and a standby takes over; then that new leader restarts (an update, a reboot) while the
// founder is still gone. Its --join names the dead founder, and the other standby's RabbitMQ node,
// alone, has paused: nobody leads, and nobody can be joined. The restarted machine keeps the
// cluster's state and a node of its RabbitMQ cluster, so after looking for a leader for a while it
// competes for the lease: its node restarts, the broker has its majority again, one of the two
// leads with every deployment, and the app answers. Hosts are network namespaces; apps run as processes.
import path from 'node:path';
import { eventually, gitFixtureRepo, manifestToml, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { ClusterHarness } from './harness.js';
import { startClusterHarness } from './harness.js';

type Listed = { getDeployments: { id: string; status: string; deploymentUrl: string | null }[] };
const LIST = 'query { getDeployments { id status deploymentUrl } }';

describe('a cluster whose every machine lost its leader', () => {
  let cluster: ClusterHarness;
  let dir: TempDir;
  let deploymentId: string;

  /** How agents 2 and 3 were started, and are started again: joining the founder, as a user would type it. */
  const standbyArgs = () => ['--priority', '1', '--join', cluster.agents[1]?.apiUrl ?? ''];

  beforeAll(async () => {
    cluster = await startClusterHarness({ hosts: 3, name: 'kl', managedBroker: true });
    dir = await tempDir('kraken-leaderless-');
    const founder = cluster.start(1, ['--priority', '0']);
    await founder.process.waitFor(/Kraken is running/, 180_000);
    // one at a time: each standby's RabbitMQ node joins the cluster's
    for (const index of [2, 3]) await cluster.start(index, standbyArgs()).process.waitFor(/agent running/, 240_000);
    await founder.process.waitFor(/the RabbitMQ cluster now survives losing a node/, 120_000);
    const repo = await gitFixtureRepo(path.join(dir.path, 'app'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'leaderless-app'),
      'server.js': "require('http').createServer((q, s) => s.end('hello')).listen(process.env.PORT);",
    });
    const result = await cluster.kraken(1, ['deploy', repo, '--json', '--data-dir', founder.dataDir]);
    expect(result.stderr).toBe('');
    const deployment = JSON.parse(result.stdout) as { id: string; status: string };
    expect(deployment.status).toBe('RUNNING');
    deploymentId = deployment.id;
  }, 480_000);

  afterAll(async () => {
    await cluster.destroy();
    await dir.remove();
  }, 120_000);

  it("leads again when the standby that took over restarts while the founder is gone: the restarted machine competes for the lease, and every deployment is there", async () => {
    await cluster.killHost(1);
    const successor = await eventually(
      () => [2, 3].find((index) => /took over as the orchestrator/.test(cluster.agents[index]?.process.output() ?? '')),
      120_000,
      'a standby taking over from the dead founder',
    );
    const other = successor === 2 ? 3 : 2;
    await eventually(async () => (await cluster.graphql<Listed>(cluster.agents[successor]?.apiUrl ?? '', LIST)).getDeployments.length === 1, 60_000, 'the successor answering');

    // the new leader restarts with the command line it was first given: --join the dead founder
    const stopping = cluster.agents[successor];
    stopping?.process.kill('SIGTERM');
    await stopping?.process.exited;
    const restarted = cluster.start(successor, standbyArgs());
    await restarted.process.waitFor(/competes for the lease/, 240_000);

    // one of the two leads: the API of either answers (the other forwards) with the deployment
    const leaderApi = await eventually(
      async () => {
        for (const index of [successor, other]) {
          const api = cluster.agents[index]?.apiUrl ?? '';
          try {
            const listed = await cluster.graphql<Listed>(api, LIST);
            if (listed.getDeployments.some((deployment) => deployment.id === deploymentId)) return api;
          } catch {
            // not leading (yet)
          }
        }
        return undefined;
      },
      240_000,
      'a leader again, with the deployment',
    );
    process.stderr.write(`[leaderless] the cluster answers again at ${leaderApi}\n`);

    // the app runs on one of the two living hosts, and answers there
    const deploymentUrl = await eventually(
      async () => {
        const { getDeployments } = await cluster.graphql<Listed>(leaderApi, LIST);
        const deployment = getDeployments.find((candidate) => candidate.id === deploymentId);
        if (deployment?.status !== 'RUNNING' || deployment.deploymentUrl === null) return undefined;
        const hostname = new URL(deployment.deploymentUrl).hostname;
        return hostname === cluster.lab.host(1).address ? undefined : deployment.deploymentUrl;
      },
      180_000,
      'the deployment running on a living host',
    );
    const answer = await eventually(() => fetch(deploymentUrl, { signal: AbortSignal.timeout(5_000) }).then((response) => response.status).catch(() => undefined), 60_000, 'the app answering');
    expect(answer).toBe(200);

    // and both machines are in the cluster again: the one that does not lead follows the one that does
    await eventually(
      async () => {
        const { getNodes } = await cluster.graphql<{ getNodes: { id: string; state: string }[] }>(leaderApi, '{ getNodes { id state } }');
        return [`agent-${String(successor)}`, `agent-${String(other)}`].every((id) => getNodes.some((node) => node.id === id && node.state === 'ALIVE'));
      },
      180_000,
      'both living machines alive in the cluster',
    );
  }, 900_000);
});
