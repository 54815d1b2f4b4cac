// Issue 16 item 4 in a lab of network namespaces: the founding leader makes the cluster CA and
// serves the API over TLS with a certificate from it; its join token carries the CA's digest, so a
// machine given a token naming another CA refuses that leader before sending it anything, and one
// given the right token joins and serves TLS itself. Plain HTTP from another machine is refused.
import https from 'node:https';
import { caDigest, createClusterCa, formatJoinToken } from '@kraken/trust';
import type { ClusterHarness } from './harness.js';
import { API_PORT, startClusterHarness } from './harness.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** GET over TLS trusting only `ca`: the status, or the TLS error's message. */
function getTrusting(url: string, ca: string): Promise<number | string> {
  return new Promise((resolve) => {
    https
      .get(url, { ca }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
      .once('error', (error) => {
        resolve(error.message);
      });
  });
}

describe('TLS inside the cluster', () => {
  let cluster: ClusterHarness;
  let caPem: string;

  beforeAll(async () => {
    cluster = await startClusterHarness({ hosts: 3, name: 'kt' });
    const leader = cluster.start(1, ['--priority', '0']);
    await leader.process.waitFor(/Kraken is running/, 120_000);
    caPem = await readFile(path.join(leader.dataDir, 'tls', 'ca.pem'), 'utf8');
  }, 180_000);

  afterAll(async () => {
    await cluster.destroy();
  }, 120_000);

  it('prints a join token that carries the digest of the CA the leader serves', () => {
    const printed = /--join-token (\S+)/.exec(cluster.agents[1]?.process.output() ?? '')?.[1];
    expect(printed).toBe(formatJoinToken(cluster.joinToken, caDigest(caPem)));
  });

  it('refuses a leader whose CA is not the one the token names, having sent it nothing', async () => {
    const otherCa = await createClusterCa('someone-else');
    const wrong = formatJoinToken(cluster.joinToken, caDigest(otherCa.certPem));
    const joiner = cluster.start(2, ['--priority', '2', '--join', `https://${cluster.lab.host(1).address}:${String(API_PORT)}`], { joinToken: wrong });

    await joiner.process.waitFor(/presented no certificate authority with the join token's digest/, 60_000);
    // the leader heard no join at all: neither one accepted nor one refused
    expect(cluster.agents[1]?.process.output()).not.toMatch(/node joined.*agent-2|refused a join.*agent-2/);
    joiner.process.kill('SIGKILL');
    await joiner.process.exited;
  }, 120_000);

  it('joins with the right token, and then every agent serves the API over TLS only to other machines', async () => {
    const token = formatJoinToken(cluster.joinToken, caDigest(caPem));
    const joiner = cluster.start(3, ['--priority', '2', '--join', `http://${cluster.lab.host(1).address}:${String(API_PORT)}`], { joinToken: token });
    await joiner.process.waitFor(/answering the API and UI by forwarding to the leader/, 120_000);
    expect(joiner.process.output()).toMatch(/joined the cluster.*"tls":true/);
    // the joiner keeps the same CA, and serves with a certificate from it
    expect(await readFile(path.join(joiner.dataDir, 'tls', 'ca.pem'), 'utf8')).toBe(caPem);

    for (const index of [1, 3]) {
      const address = cluster.lab.host(index).address;
      // this test process is another machine to the agents: plain HTTP gets a refusal naming https
      const plain = await fetch(`http://${address}:${String(API_PORT)}/ping`);
      expect(plain.status).toBe(403);
      expect(await plain.text()).toContain(`over HTTPS only: https://${address}:${String(API_PORT)}/`);
      expect(await getTrusting(`https://${address}:${String(API_PORT)}/ping`, caPem)).toBe(200);
      // a client trusting another CA does not get through
      const stranger = await createClusterCa('stranger');
      expect(await getTrusting(`https://${address}:${String(API_PORT)}/ping`, stranger.certPem)).toMatch(/self.signed|unable to verify|certificate/i);
    }
    // the CLI on the joiner's machine trusts the CA it got at join
    const nodes = await cluster.kraken(3, ['nodes', '--json', '--api', `https://${cluster.lab.host(3).address}:${String(API_PORT)}`, '--token', await cluster.apiToken(), '--data-dir', joiner.dataDir]);
    expect(nodes.stderr).toBe('');
    expect(nodes.code).toBe(0);
  }, 180_000);
});
