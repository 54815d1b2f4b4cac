import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { noopLogger } from '@kraken/common';
import type { KnownLeader } from '@kraken/orchestrator';
import type { LeaderSource, ListeningProxy } from './leader-proxy.js';
import { LeaderProxy } from './leader-proxy.js';

/** A stand-in for a leader's API: answers with what it received; echoes bytes on an upgraded connection. */
async function fakeLeader(name: string): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Duplex>();
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ leader: name, path: req.url, authorization: req.headers.authorization ?? null, forwardedBy: req.headers['x-kraken-forwarded-by'] ?? null }));
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
    sockets.add(socket);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-leader-saw-auth: ${req.headers.authorization ?? ''}\r\n\r\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A port nothing listens on: a leader whose machine refuses connections. */
async function closedPortUrl(): Promise<string> {
  const gone = await fakeLeader('gone');
  await gone.close();
  return gone.url;
}

class Leaders implements LeaderSource {
  leader: KnownLeader | undefined;
  silentForMs(): number | undefined {
    return this.leader === undefined ? undefined : 500;
  }
  set(nodeId: string, apiUrl: string): void {
    this.leader = { nodeId, apiUrl, epoch: 1, heardAt: 0 };
  }
}

/** Opens a WebSocket-style upgrade through `url`: the 101's headers, or the HTTP answer that refused it. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; socket?: Duplex }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}/graphql`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    request.on('upgrade', (res, socket) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '', socket });
    });
    request.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

describe('LeaderProxy', () => {
  const cleanups: (() => Promise<void>)[] = [];
  let leaders: Leaders;
  const proxy = async (): Promise<ListeningProxy> => {
    const listening = await new LeaderProxy({ nodeId: 'agent-4', leaders, logger: noopLogger, connectTimeoutMs: 1_000 }).listen(0, '127.0.0.1');
    cleanups.push(() => listening.close());
    return listening;
  };
  const leader = async (name: string) => {
    const started = await fakeLeader(name);
    cleanups.push(() => started.close());
    return started;
  };

  beforeEach(() => {
    leaders = new Leaders();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("forwards a request to the leader with its Authorization unchanged, and the answer names the leader", async () => {
    const a = await leader('a');
    leaders.set('agent-1', a.url);
    const { url } = await proxy();
    const response = await fetch(`${url}/graphql?x=1`, { method: 'POST', headers: { authorization: 'Bearer secret', 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-kraken-leader')).toBe(`agent-1 ${a.url}`);
    expect(await response.json()).toEqual({ leader: 'a', path: '/graphql?x=1', authorization: 'Bearer secret', forwardedBy: 'agent-4' });
  });

  it('sends the next request to a new leader as soon as it is known', async () => {
    const a = await leader('a');
    const b = await leader('b');
    leaders.set('agent-1', a.url);
    const { url } = await proxy();
    expect(((await (await fetch(`${url}/ping`)).json()) as { leader: string }).leader).toBe('a');
    leaders.set('agent-2', b.url);
    const moved = await fetch(`${url}/ping`);
    expect(moved.headers.get('x-kraken-leader')).toBe(`agent-2 ${b.url}`);
    expect(((await moved.json()) as { leader: string }).leader).toBe('b');
  });

  it('answers 503 NO_LEADER naming the last known leader when it does not take the connection', async () => {
    leaders.set('agent-1', await closedPortUrl());
    const { url } = await proxy();
    const rest = await fetch(`${url}/log/some-id`);
    expect(rest.status).toBe(503);
    const body = (await rest.json()) as { error: { code: string; message: string; details: unknown } };
    expect(body.error.code).toBe('NO_LEADER');
    expect(body.error.message).toMatch(/^the cluster has no reachable leader right now: .*the last known one, agent-1 at http:\/\/127\.0\.0\.1:\d+ \(last heard from 0\.5 s ago\), does not answer \(.*ECONNREFUSED/);
    const graphql = await fetch(`${url}/graphql`, { method: 'POST', body: '{}' });
    expect(graphql.status).toBe(503);
    expect(((await graphql.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('NO_LEADER');
  });

  it('answers 503 when no leader is known yet', async () => {
    const { url } = await proxy();
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('knows of none yet');
  });

  it('refuses a request that already came through this agent instead of sending it round in a circle', async () => {
    const a = await leader('a');
    leaders.set('agent-1', a.url);
    const { url } = await proxy();
    const response = await fetch(`${url}/ping`, { headers: { 'x-kraken-forwarded-by': 'agent-4,agent-2' } });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('agent-4 -> agent-2 -> agent-4');
  });

  it('forwards a WebSocket upgrade with its headers, marks the 101 with the leader, and carries the stream', async () => {
    const a = await leader('a');
    leaders.set('agent-1', a.url);
    const { url } = await proxy();
    const opened = await upgrade(url, { authorization: 'Bearer secret' });
    expect(opened.status).toBe(101);
    expect(opened.headers['x-kraken-leader']).toBe(`agent-1 ${a.url}`);
    expect(opened.headers['x-leader-saw-auth']).toBe('Bearer secret');
    const socket = opened.socket as Duplex;
    const echoed = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => { resolve(chunk.toString()); }));
    socket.write('hello');
    expect(await echoed).toBe('hello');
    socket.destroy();
  });

  it('answers a WebSocket upgrade with 503 when the leader does not take the connection', async () => {
    leaders.set('agent-1', await closedPortUrl());
    const { url } = await proxy();
    const refused = await upgrade(url);
    expect(refused.status).toBe(503);
    expect((JSON.parse(refused.body) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('NO_LEADER');
  });

  it('frees its port at once on close, even with a WebSocket open through it', async () => {
    const a = await leader('a');
    leaders.set('agent-1', a.url);
    const listening = await new LeaderProxy({ nodeId: 'agent-4', leaders, logger: noopLogger }).listen(0, '127.0.0.1');
    const opened = await upgrade(listening.url);
    expect(opened.status).toBe(101);
    const closedByProxy = new Promise<void>((resolve) => opened.socket?.once('close', () => { resolve(); }));
    await listening.close();
    await closedByProxy;
    // what a standby taking over does next: listen on the same port
    const port = Number(new URL(listening.url).port);
    const next = http.createServer();
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => next.close(resolve));
  });
});
