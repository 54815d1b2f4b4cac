// Issue 19 acceptance, items 1, 2 and 5: every agent's ingress answers for every app by its name,
// wherever the app runs, and keeps answering through the same name once the app moved off a host
// that died; `<name>.local` resolves over mDNS to an agent's address from another host. Three hosts in network namespaces (agent 1 leads, 2 and 3 only run apps), the process
// runtime, the machine's RabbitMQ in a vhost of the cluster's own; nothing mocked.
import http from 'node:http';
import path from 'node:path';
import { StopWaiting, eventually, gitFixtureRepo, manifestToml, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { ClusterHarness } from './harness.js';
import { INGRESS_PORT, startClusterHarness } from './harness.js';

/**
 * A script for `node -e` inside a lab host: asks the lab's multicast DNS for `name` (type A), as a
 * resolver does, on the host's interface, and prints the first address answered (exit 2: none in 10 s).
 */
function mdnsQueryScript(name: string, interfaceAddress: string): string {
  const mdnsModule = require.resolve('multicast-dns');
  return `const mdns = require(${JSON.stringify(mdnsModule)})({ interface: ${JSON.stringify(interfaceAddress)}, bind: '0.0.0.0' });
mdns.on('response', (response) => {
  const answer = response.answers.find((a) => a.type === 'A' && a.name === ${JSON.stringify(name)});
  if (answer) { process.stdout.write(answer.data); process.exit(0); }
});
const ask = () => mdns.query({ questions: [{ name: ${JSON.stringify(name)}, type: 'A' }] });
ask();
setInterval(ask, 1000);
setTimeout(() => process.exit(2), 10000);`;
}

interface DeploymentView {
  id: string;
  name: string | null;
  appUrl: string | null;
  status: string;
  statusMessage: string | null;
  node: string | null;
  deploymentUrl: string | null;
}

interface Answer {
  status: number;
  body: string;
}

/** A request to host `address`'s ingress for app `name`, as `curl -H 'Host: <name>'` sends it; bounded, so a hang fails the test. */
function throughIngress(address: string, name: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: address, port: INGRESS_PORT, path: '/', headers: { host: `${name}.local` }, agent: false, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('timeout', () => {
      req.destroy(new Error(`the ingress of ${address} did not answer for ${name} within 5 s`));
    });
    req.on('error', reject);
  });
}

describe('an ingress on every agent', () => {
  let cluster: ClusterHarness;
  let dir: TempDir;
  let repo: string;
  /** The app that ran on host 2, as the first test found it. */
  let onHost2: DeploymentView | undefined;
  const address = (index: number) => cluster.lab.host(index).address;
  const api = () => cluster.agents[1]?.apiUrl ?? '';
  const FIELDS = 'id name appUrl status statusMessage node deploymentUrl';
  const deployment = async (id: string) =>
    (await cluster.graphql<{ getDeployment: DeploymentView }>(api(), `query ($id: String!) { getDeployment(deploymentId: $id) { ${FIELDS} } }`, { variables: { id } })).getDeployment;

  beforeAll(async () => {
    cluster = await startClusterHarness({ hosts: 3, name: 'ki' });
    dir = await tempDir('kraken-ingress-app-');
    repo = await gitFixtureRepo(path.join(dir.path, 'ingress-app'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'ingress-app'),
      'server.js': "require('http').createServer((q, s) => s.end('hello through the ingress, path ' + q.url)).listen(process.env.PORT);",
    });
    // 2 only runs apps; 3 joins later, so that one of two deployments lands on 2 (the scheduler spreads them)
    const agents = [cluster.start(1, ['--priority', '0']), cluster.start(2, ['--priority', '2', '--join', `http://${cluster.lab.host(1).address}:4000`])];
    await Promise.all(agents.map((agent) => agent.process.waitFor(/agent running/, 120_000)));
  }, 180_000);

  afterAll(async () => {
    await cluster.destroy();
    await dir.remove();
  }, 120_000);

  it('answers for an app running on host 2 by its name through the ingress of hosts 1, 2 and 3', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const result = await cluster.kraken(1, ['deploy', repo, '--json', '--data-dir', cluster.agents[1]?.dataDir ?? '']);
      expect(result.stderr).toBe('');
      ids.push((JSON.parse(result.stdout) as DeploymentView).id);
    }
    const deployments = await Promise.all(ids.map(deployment));
    // named after the repository, made unique
    expect(deployments.map((d) => d.name)).toEqual(['ingress-app', 'ingress-app-2']);
    expect(deployments.map((d) => d.appUrl)).toEqual(['http://ingress-app.local', 'http://ingress-app-2.local']);
    // a name asked for that a live deployment has is refused, saying by which
    const taken = await cluster.kraken(1, ['deploy', repo, '--name', 'ingress-app', '--no-follow', '--data-dir', cluster.agents[1]?.dataDir ?? '']);
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain(`the name ingress-app is taken by deployment ${ids[0] ?? ''}; choose another`);
    onHost2 = deployments.find((d) => d.node === 'agent-2');
    if (onHost2 === undefined) throw new Error(`no deployment landed on agent-2: ${JSON.stringify(deployments)}`);
    const name = onHost2.name ?? '';

    const third = cluster.start(3, ['--priority', '2', '--join', `http://${address(1)}:4000`]);
    await third.process.waitFor(/agent running/, 120_000);
    for (const index of [1, 2, 3]) {
      await cluster.agents[index]?.process.waitFor(/the ingress answers on port 80/, 30_000);
      // a route table reaches a new agent within the publisher's interval
      const answer = await eventually(async () => {
        const got = await throughIngress(address(index), name);
        return got.status === 200 && got;
      }, 10_000, `the app through host ${String(index)}'s ingress`);
      expect(answer.body).toBe('hello through the ingress, path /');
    }

    // <name>.local resolves over mDNS from another host of the LAN to an agent, whose ingress serves it
    const resolved = (await cluster.lab.exec(3, [process.execPath, '-e', mdnsQueryScript(`${name}.local`, address(3))], { timeoutMs: 20_000 })).stdout;
    expect([1, 2, 3].map(address)).toContain(resolved);
    expect((await throughIngress(resolved, name)).status).toBe(200);

    // a name no deployment has: 404, naming no app
    const unknown = await throughIngress(address(3), 'nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body).not.toContain('ingress-app');
  }, 360_000);

  it('answers again through the same name once the app moved off host 2, killed with -9; never a hang meanwhile', async () => {
    if (onHost2 === undefined) throw new Error('the first test found no app on host 2');
    const { id, name } = onHost2;
    const killedAt = Date.now();
    await cluster.killHost(2);
    // while it moves, each answer is an error page naming the app, never a hang (throughIngress times out at 5 s)
    const meanwhile = new Map<number, number>();
    const moved = await eventually(
      async () => {
        const current = await deployment(id);
        if (current.status === 'ERRORED') throw new StopWaiting(`${id} ERRORED: ${current.statusMessage ?? '(no message)'}`);
        const got = await throughIngress(address(1), name ?? '');
        if (got.status !== 200) {
          meanwhile.set(got.status, (meanwhile.get(got.status) ?? 0) + 1);
          expect(got.body).toContain(id);
        }
        return current.status === 'RUNNING' && current.node !== 'agent-2' && got.status === 200 && current;
      },
      180_000,
      `${id} running again off agent-2 and answering through the ingress of host 1`,
      250,
    );
    process.stderr.write(
      `[ingress] ${id} answered through its name again ${String(Date.now() - killedAt)} ms after host 2 died, now on ${String(moved.node)}; answers meanwhile by status: ${JSON.stringify(Object.fromEntries(meanwhile))}\n`,
    );
    expect([...meanwhile.keys()].every((status) => [502, 503].includes(status))).toBe(true);
    expect(moved.name).toBe(name);
    for (const index of [1, 3]) {
      const answer = await eventually(async () => {
        const got = await throughIngress(address(index), name ?? '');
        return got.status === 200 && got;
      }, 5_000, `the moved app through host ${String(index)}'s ingress`);
      expect(answer.body).toBe('hello through the ingress, path /');
    }
  }, 240_000);
});
