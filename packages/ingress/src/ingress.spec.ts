import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Ingress } from './ingress.js';
import type { Route } from './route-table.js';
import { RouteTable } from './route-table.js';

/** A stand-in app on loopback: answers with its name and what it received; echoes bytes once upgraded. */
async function fakeApp(name: string, handler?: http.RequestListener): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Duplex>();
  let connections = 0;
  const server = http.createServer(
    handler ??
      ((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              app: name,
              method: req.method,
              path: req.url,
              body: Buffer.concat(chunks).toString('utf8'),
              forwardedFor: req.headers['x-forwarded-for'] ?? null,
              forwardedHost: req.headers['x-forwarded-host'] ?? null,
              forwardedProto: req.headers['x-forwarded-proto'] ?? null,
              host: req.headers.host ?? null,
            }),
          );
        });
      }),
  );
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (_req: http.IncomingMessage, socket: Duplex) => {
    sockets.add(socket);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, host: string, options: { method?: string; body?: string; agent?: http.Agent; path?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: options.path ?? '/', method: options.method ?? 'GET', headers: { host }, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('Ingress', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function ingressWith(routes: Route[], options: { idleTimeoutMs?: number } = {}): Promise<{ ingress: Ingress; table: RouteTable }> {
    const table = new RouteTable();
    table.apply({ epoch: 1, seq: 1, routes });
    const ingress = await Ingress.listen({ routes: table, port: 0, host: '127.0.0.1', ...options });
    cleanups.push(() => ingress.close());
    return { ingress, table };
  }

  async function app(name: string, handler?: http.RequestListener) {
    const started = await fakeApp(name, handler);
    cleanups.push(started.close);
    return started;
  }

  it('sends each request to the app its Host header names, body and X-Forwarded-* headers included', async () => {
    const hello = await app('hello');
    const blog = await app('blog');
    const { ingress } = await ingressWith([
      { name: 'hello', deploymentId: 'hello-1', status: 'Running', upstream: hello.url },
      { name: 'blog', deploymentId: 'blog-1', status: 'Running', upstream: blog.url },
    ]);
    const answer = await request(ingress.port, 'hello.local:8080', { method: 'POST', path: '/a?b=1', body: 'payload' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({
      app: 'hello',
      method: 'POST',
      path: '/a?b=1',
      body: 'payload',
      forwardedFor: '127.0.0.1',
      forwardedHost: 'hello.local:8080',
      forwardedProto: 'http',
      // the app sees the name it was asked by, as behind any reverse proxy
      host: 'hello.local:8080',
    });
    expect(JSON.parse((await request(ingress.port, 'blog')).body)).toMatchObject({ app: 'blog' });
  });

  it('streams a large answer through without holding it whole', async () => {
    const chunk = 'x'.repeat(64 * 1024);
    const big = await app('big', (_req, res) => {
      let left = 64;
      const pump = () => {
        while (left > 0) {
          left -= 1;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const { ingress } = await ingressWith([{ name: 'big', deploymentId: 'big-1', status: 'Running', upstream: big.url }]);
    const answer = await request(ingress.port, 'big');
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(64 * chunk.length);
  });

  it('keeps connections to an app alive and reuses them', async () => {
    const hello = await app('hello');
    const { ingress } = await ingressWith([{ name: 'hello', deploymentId: 'hello-1', status: 'Running', upstream: hello.url }]);
    for (let i = 0; i < 5; i += 1) expect((await request(ingress.port, 'hello')).status).toBe(200);
    expect(hello.connections()).toBe(1);
  });

  it('sends a request without a body once more when the app reset the kept-alive connection it went out on', async () => {
    let served = 0;
    // every connection answers one request, then resets: as an app closing an idle kept-alive connection just as a request arrives
    const closing = await app('closing', (req, res) => {
      const socket = req.socket as typeof req.socket & { answered?: boolean };
      if (socket.answered === true) {
        socket.destroy();
        return;
      }
      socket.answered = true;
      served += 1;
      res.end(`answer ${String(served)}`);
    });
    const { ingress } = await ingressWith([{ name: 'closing', deploymentId: 'closing-1', status: 'Running', upstream: closing.url }]);
    expect((await request(ingress.port, 'closing')).body).toBe('answer 1');
    expect(await request(ingress.port, 'closing')).toMatchObject({ status: 200, body: 'answer 2' });
    // a body was streamed to the app already: that request is not sent twice
    const posted = await request(ingress.port, 'closing', { method: 'POST', body: 'once' });
    expect(posted.status).toBe(502);
    // the first connection, then the one the retry opened (the POST went out on it and was not retried)
    expect(closing.connections()).toBe(2);
    expect(served).toBe(2);
  });

  it('follows a new table at once: the next request goes where the app runs now', async () => {
    const before = await app('before');
    const after = await app('after');
    const { ingress, table } = await ingressWith([{ name: 'hello', deploymentId: 'hello-1', status: 'Running', upstream: before.url }]);
    expect(JSON.parse((await request(ingress.port, 'hello')).body)).toMatchObject({ app: 'before' });
    table.apply({ epoch: 1, seq: 2, routes: [{ name: 'hello', deploymentId: 'hello-1', status: 'Running', upstream: after.url }] });
    expect(JSON.parse((await request(ingress.port, 'hello')).body)).toMatchObject({ app: 'after' });
  });

  it('answers 404 for a name it does not know, naming no other app', async () => {
    const hello = await app('hello');
    const { ingress } = await ingressWith([{ name: 'secret-app', deploymentId: 'secret-app-1', status: 'Running', upstream: hello.url }]);
    const answer = await request(ingress.port, 'nothing.local');
    expect(answer.status).toBe(404);
    expect(answer.body).toContain('no app for Host "nothing.local"');
    expect(answer.body).not.toContain('secret-app');
    expect((await request(ingress.port, '10.0.0.1:8080')).status).toBe(404);
  });

  it('answers 503 naming the deployment and its status when no instance runs', async () => {
    const { ingress } = await ingressWith([{ name: 'hello', deploymentId: 'hello-1', status: 'BuildingDeployment' }]);
    const answer = await request(ingress.port, 'hello');
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('2');
    expect(answer.body).toContain('Deployment hello-1 (hello) has no running instance: its status is BuildingDeployment.');
  });

  it('answers 503 at once for an app whose instance runs but does not answer its ready checks, saying so', async () => {
    const reason = 'not answering on port 20001 for 15 s (3 checks)';
    const { ingress } = await ingressWith([{ name: 'hello', deploymentId: 'hello-1', status: 'Running', notAnswering: reason }]);
    const answer = await request(ingress.port, 'hello');
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    expect(answer.body).toContain(`Deployment hello-1 (hello) runs but does not answer: ${reason}.`);
  });

  it('answers 503 for a stopped app, saying it was stopped and how to start it, with no retry hint', async () => {
    const { ingress } = await ingressWith([{ name: 'hello', deploymentId: 'hello-1', status: 'Stopped' }]);
    const answer = await request(ingress.port, 'hello');
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBeUndefined();
    expect(answer.body).toContain('Deployment hello-1 (hello) was stopped on request: its status is Stopped.');
    expect(answer.body).toContain('kraken start hello-1');
  });

  it('escapes what it shows of a request in its pages', async () => {
    const { ingress } = await ingressWith([]);
    const answer = await request(ingress.port, '<script>x');
    expect(answer.status).toBe(404);
    expect(answer.body).not.toContain('<script>');
  });

  it('answers 502 when the instance refuses the connection', async () => {
    const { ingress } = await ingressWith([{ name: 'hello', deploymentId: 'hello-1', status: 'Running', upstream: `http://127.0.0.1:${String(await freePort())}` }]);
    const answer = await request(ingress.port, 'hello');
    expect(answer.status).toBe(502);
    expect(answer.body).toContain('Deployment hello-1 (hello, status Running)');
    expect(answer.body).toContain('ECONNREFUSED');
  });

  it('answers 504 when the instance stays silent past the idle timeout, never hangs', async () => {
    const silent = await app('silent', () => {
      // takes the request and never answers
    });
    const { ingress } = await ingressWith([{ name: 'silent', deploymentId: 'silent-1', status: 'Running', upstream: silent.url }], { idleTimeoutMs: 200 });
    const answer = await request(ingress.port, 'silent');
    expect(answer.status).toBe(504);
    expect(answer.body).toContain('silent did not answer in time');
  });

  it('carries a WebSocket upgrade to the app and its frames both ways', async () => {
    const hello = await app('hello');
    const { ingress } = await ingressWith([{ name: 'hello', deploymentId: 'hello-1', status: 'Running', upstream: hello.url }]);
    const socket = net.connect(ingress.port, '127.0.0.1');
    cleanups.push(async () => {
      socket.destroy();
      await Promise.resolve();
    });
    socket.write('GET /ws HTTP/1.1\r\nHost: hello\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    let received = '';
    await new Promise<void>((resolve) => {
      socket.on('data', (data: Buffer) => {
        received += data.toString('utf8');
        if (received.includes('\r\n\r\n') && !received.includes('ping')) socket.write('ping');
        if (received.endsWith('ping')) resolve();
      });
    });
    expect(received.startsWith('HTTP/1.1 101')).toBe(true);
  });

  it('refuses an upgrade for an app without a running instance with a 503 answer', async () => {
    const { ingress } = await ingressWith([{ name: 'hello', deploymentId: 'hello-1', status: 'Errored' }]);
    const socket = net.connect(ingress.port, '127.0.0.1');
    socket.write('GET /ws HTTP/1.1\r\nHost: hello\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    const received = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (data: Buffer) => (text += data.toString('utf8')));
      socket.on('close', () => {
        resolve(text);
      });
    });
    expect(received.startsWith('HTTP/1.1 503')).toBe(true);
    expect(received).toContain('its status is Errored');
  });

  it('says why it cannot listen on a port that is taken', async () => {
    const { ingress } = await ingressWith([]);
    await expect(Ingress.listen({ routes: new RouteTable(), port: ingress.port, host: '127.0.0.1' })).rejects.toThrow(/EADDRINUSE/);
  });
});
