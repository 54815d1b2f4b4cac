import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { uiMiddleware } from './ui-middleware.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(url: string, accept = 'text/html'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { accept } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      })
      .on('error', reject);
  });
}

async function serve(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.get('/api/ping', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(uiMiddleware({ root }));
  app.use((_req, res) => {
    res.status(404).send('fallback 404');
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

describe('uiMiddleware', () => {
  let root: string;
  let server: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ui-host-'));
    await fs.mkdir(path.join(root, 'assets'));
    await fs.writeFile(path.join(root, 'index.html'), '<!doctype html><title>Kraken</title><div id="root"></div>');
    await fs.writeFile(path.join(root, 'assets', 'index-abc123.js'), 'console.log("app")');
    await fs.writeFile(path.join(root, 'favicon.svg'), '<svg/>');
    server = await serve(root);
  });

  afterAll(async () => {
    await server.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('serves hashed assets as immutable for a year', async () => {
    const answer = await get(`${server.url}/assets/index-abc123.js`, '*/*');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('console.log("app")');
    expect(answer.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('redirects / to /index.html (as the original Kraken API did)', async () => {
    const answer = await get(`${server.url}/`);
    expect(answer.status).toBe(302);
    expect(answer.headers['location']).toBe('/index.html');
  });

  it('serves index.html with no-cache so new builds are picked up', async () => {
    const answer = await get(`${server.url}/index.html`);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('<div id="root">');
    expect(answer.headers['cache-control']).toBe('no-cache');
  });

  it('answers client routes with index.html (SPA fallback)', async () => {
    const answer = await get(`${server.url}/deployments/abc-123`);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('<title>Kraken</title>');
    expect(answer.headers['cache-control']).toBe('no-cache');
  });

  it('revalidates un-hashed files outside assets/', async () => {
    const answer = await get(`${server.url}/favicon.svg`, '*/*');
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-cache');
  });

  it('passes missing assets, API routes and non-HTML requests on to the next handler', async () => {
    expect((await get(`${server.url}/assets/missing-000.js`, '*/*')).body).toBe('fallback 404');
    expect((await get(`${server.url}/graphql`)).body).toBe('fallback 404');
    expect((await get(`${server.url}/nodes`, 'application/json')).body).toBe('fallback 404');
    expect((await get(`${server.url}/api/ping`, 'application/json')).body).toBe('{"ok":true}');
  });

  it('shows a page naming the folder and the build command when the bundle is missing', async () => {
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'ui-host-empty-'));
    const bare = await serve(empty);
    try {
      const answer = await get(`${bare.url}/index.html`);
      expect(answer.status).toBe(503);
      expect(answer.body).toContain('Kraken UI not built');
      expect(answer.body).toContain(empty);
      expect(answer.body).toContain('npx nx build ui-host');
    } finally {
      await bare.close();
      await fs.rm(empty, { recursive: true, force: true });
    }
  });
});
