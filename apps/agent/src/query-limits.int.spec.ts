// Issue 16: the GraphQL limits count introspection. Alias bombs (2,000 introspection subtrees, or
// 2,000 copies of a data field) are refused before they are parsed, let alone executed, and four
// arriving together keep a real agent's memory small.
import fs from 'node:fs';
import path from 'node:path';
import { freePort, isolatedVhost, requireRabbit, tempDir } from '@kraken/testing';
import type { IsolatedVhost, TempDir, WatchedProcess } from '@kraken/testing';
import { startLoneAgent } from '../test/cli-process.js';

const MAX_RSS_MB = 200;

const aliasBomb = (subtree: string) => `query { ${Array.from({ length: 2000 }, (_, i) => `a${String(i)}:${subtree}`).join(' ')} }`;

describe('GraphQL alias bombs against a running agent', () => {
  let dir: TempDir;
  let vhost: IsolatedVhost;
  let agent: WatchedProcess;
  let api: string;
  let token: string;

  beforeAll(async () => {
    await requireRabbit();
    vhost = await isolatedVhost('kraken-query-limits');
    dir = await tempDir('kraken-query-limits-');
    const dataDir = path.join(dir.path, 'data');
    ({ process: agent, api } = await startLoneAgent({ dataDir, brokerUrl: vhost.url, port: await freePort() }));
    token = (JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { apiToken: string }).apiToken;
  }, 120_000);

  afterAll(async () => {
    agent.kill('SIGTERM');
    await agent.exited;
    await dir.remove();
    await vhost.remove();
  }, 60_000);

  const post = async (query: string) => {
    const response = await fetch(`${api}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: { limit?: string } }[] } };
  };

  it('refuses four introspection alias bombs arriving together, executing none, with the agent under 200 MB', async () => {
    // written tight so that 2,000 of them fit the 100 KB body limit
    const bomb = aliasBomb('__schema{types{name fields{name}}}');
    // under the body limit: it is the field count that refuses it, not the size
    expect(Buffer.byteLength(JSON.stringify({ query: bomb }))).toBeLessThan(100 * 1024);
    const pid = agent.child.pid ?? 0;
    let peakMb = rssMb(pid);
    const sampler = setInterval(() => {
      peakMb = Math.max(peakMb, rssMb(pid));
    }, 10);
    let answers;
    try {
      answers = await Promise.all([post(bomb), post(bomb), post(bomb), post(bomb)]);
    } finally {
      clearInterval(sampler);
    }
    peakMb = Math.max(peakMb, rssMb(pid));
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.data).toBeUndefined();
      expect(answer.body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/^query holds more than 5000 tokens/) as unknown, extensions: { code: 'PAYLOAD_TOO_LARGE', limit: 'tokens' } });
    }
    expect(peakMb).toBeLessThan(MAX_RSS_MB);
  }, 60_000);

  it('refuses alias bombs of data fields the same way, counts introspection fields, and answers one introspection of the whole schema', async () => {
    const data = await post(aliasBomb('getNodes{id}'));
    expect(data.status).toBe(400);
    expect(data.body.errors?.[0]?.extensions?.limit).toBe('tokens');
    // few tokens, but each __schema answers with the whole schema: the field count refuses them
    const fewer = await post(`query { ${Array.from({ length: 10 }, (_, i) => `a${String(i)}: __schema { types { name } }`).join(' ')} }`);
    expect(fewer.status).toBe(400);
    expect(fewer.body.errors?.[0]).toMatchObject({ message: 'query selects more than 500 fields; at most 500 are allowed', extensions: { limit: 'fields' } });
    // what a schema browser asks (the full standard query is checked against the rule in limits.spec.ts)
    const full = await post('query { __schema { queryType { name } types { name kind fields { name args { name } type { name kind ofType { name kind ofType { name } } } } } } }');
    expect(full.status).toBe(200);
    expect(full.body.errors).toBeUndefined();
  }, 60_000);
});

function rssMb(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) / 1024;
  } catch {
    return 0; // exited: its last reading stands
  }
}
