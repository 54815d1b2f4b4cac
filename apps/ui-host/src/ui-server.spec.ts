import fs from 'node:fs/promises';
import http from 'node:http';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startUiServer } from './ui-server.js';
import type { RunningUiServer } from './ui-server.js';

/** A stand-in API: echoes GraphQL POSTs with the headers it got, and accepts upgrades on /graphql as a line echo. */
function fakeApi(): http.Server {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url, method: req.method, authorization: req.headers.authorization, body }));
    });
  });
  server.on('upgrade', (req, socket: Socket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-path: ${req.url ?? ''}\r\n\r\n`);
    socket.on('data', (chunk: Buffer) => socket.write(`echo:${chunk.toString()}`));
    socket.on('end', () => socket.end());
  });
  return server;
}

describe('startUiServer', () => {
  let api: http.Server;
  let ui: RunningUiServer;
  let root: string;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ui-host-server-'));
    await fs.writeFile(path.join(root, 'index.html'), '<!doctype html><title>Kraken UI</title>');
    api = fakeApi();
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const { port } = api.address() as { port: number };
    ui = await startUiServer({ api: `http://127.0.0.1:${port}`, port: 0, root });
  });

  afterAll(async () => {
    await ui.close();
    api.closeAllConnections();
    await new Promise((resolve) => api.close(resolve));
    await fs.rm(root, { recursive: true, force: true });
  });

  it('serves the bundle at /', async () => {
    const response = await fetch(`${ui.url}/`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>Kraken UI</title>');
  });

  it('forwards /graphql POSTs with their path, body and Authorization header', async () => {
    const response = await fetch(`${ui.url}/graphql?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer secret' },
      body: '{"query":"{ getNodes { id } }"}',
    });
    expect(await response.json()).toEqual({ path: '/graphql?x=1', method: 'POST', authorization: 'Bearer secret', body: '{"query":"{ getNodes { id } }"}' });
  });

  it('forwards WebSocket upgrades on /graphql both ways', async () => {
    const { port } = new URL(ui.url);
    const reply = await new Promise<{ status: number; path: string; echoed: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/graphql', headers: { connection: 'Upgrade', upgrade: 'websocket' } });
      req.on('upgrade', (res, socket) => {
        socket.once('data', (chunk: Buffer) => {
          resolve({ status: res.statusCode ?? 0, path: String(res.headers['x-path']), echoed: chunk.toString() });
          socket.destroy();
        });
        socket.write('hello');
      });
      req.on('error', reject);
      req.end();
    });
    expect(reply).toEqual({ status: 101, path: '/graphql', echoed: 'echo:hello' });
  });

  it('answers 502 with a GraphQL error naming the API when it is unreachable', async () => {
    const dead = await startUiServer({ api: 'http://127.0.0.1:1', port: 0, root });
    try {
      const response = await fetch(`${dead.url}/graphql`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(502);
      const body = (await response.json()) as { errors: { message: string }[] };
      expect(body.errors[0]?.message).toMatch(/cannot reach the Kraken API at http:\/\/127\.0\.0\.1:1/);
    } finally {
      await dead.close();
    }
  });
});
