import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, KrakenError } from '@kraken/common';
import { ApiClient } from './api-client.js';

const NO_LEADER = 'the cluster has no reachable leader right now: agent agent-4 forwards API requests to the leader, and the last known one, agent-1 at http://10.0.0.1:4000, does not answer (ECONNREFUSED); try again shortly';

/**
 * An agent that forwards to a leader during a takeover: it answers 503 NO_LEADER to the first
 * `gap` requests, then what the new leader answers, marked with its X-Kraken-Leader header.
 */
async function agentInTakeover(gap: number): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    const graphql = req.url === '/graphql';
    if (requests <= gap) {
      res.writeHead(503, { 'content-type': 'application/json' });
      const fields = { code: 'NO_LEADER', nodeId: 'agent-4' };
      res.end(JSON.stringify(graphql ? { errors: [{ message: NO_LEADER, extensions: fields }] } : { error: { message: NO_LEADER, ...fields } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-kraken-leader': 'agent-2 http://10.0.0.2:4000' });
    res.end(JSON.stringify(graphql ? { data: { answeredBy: 'agent-2' } } : { nodeId: 'agent-4', leader: 'agent-2' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => { resolve(); })),
  };
}

describe('ApiClient through an agent whose cluster is between leaders', () => {
  const servers: { close: () => Promise<void> }[] = [];
  const agent = async (gap: number) => {
    const started = await agentInTakeover(gap);
    servers.push(started);
    return started;
  };

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  it('tries a read again until the new leader answers, says once that it waits, and knows which leader answered', async () => {
    const { url, requests } = await agent(3);
    const waits: string[] = [];
    const client = new ApiClient({ url, leaderWaitMs: 10_000, leaderRetryMs: 10, onLeaderWait: (message) => waits.push(message) });
    await expect(client.graphql('query { answeredBy }')).resolves.toEqual({ answeredBy: 'agent-2' });
    expect(requests()).toBe(4);
    expect(waits).toEqual([NO_LEADER]);
    expect(client.leader).toEqual({ nodeId: 'agent-2', apiUrl: 'http://10.0.0.2:4000' });
  });

  it('tries a REST read again too', async () => {
    const { url } = await agent(2);
    const client = new ApiClient({ url, leaderWaitMs: 10_000, leaderRetryMs: 10 });
    const response = await client.get('/health/agent-4');
    expect(await response.json()).toEqual({ nodeId: 'agent-4', leader: 'agent-2' });
  });

  it('sends a write once and fails with NO_LEADER and the agent\'s explanation', async () => {
    const { url, requests } = await agent(1);
    const client = new ApiClient({ url, leaderWaitMs: 10_000, leaderRetryMs: 10 });
    const failure = await client.graphql('mutation { cancelDeployment(deploymentId: "x") }').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KrakenError);
    expect(failure).toMatchObject({ code: ErrorCode.NoLeader, message: NO_LEADER });
    expect(requests()).toBe(1);
  });

  it('gives up on a read after leaderWaitMs, saying it waited', async () => {
    const { url } = await agent(Number.POSITIVE_INFINITY);
    const client = new ApiClient({ url, leaderWaitMs: 100, leaderRetryMs: 10 });
    const failure = await client.get('/health/agent-4').catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: ErrorCode.NoLeader, message: `${NO_LEADER} (still none after waiting 0.1 s)` });
  });

  it('names no leader once an answer comes from the API it asked, not forwarded', async () => {
    const direct = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { answeredBy: 'itself' } }));
    });
    await new Promise<void>((resolve) => direct.listen(0, '127.0.0.1', resolve));
    servers.push({ close: () => new Promise((resolve) => direct.close(() => { resolve(); })) });
    const client = new ApiClient({ url: `http://127.0.0.1:${String((direct.address() as AddressInfo).port)}` });
    await client.graphql('query { answeredBy }');
    expect(client.leader).toBeUndefined();
  });
});
