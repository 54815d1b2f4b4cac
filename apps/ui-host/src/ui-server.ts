import http from 'node:http';
import type { Duplex } from 'node:stream';
import express from 'express';
import { createApiProxy } from './api-proxy.js';
import { uiMiddleware } from './ui-middleware.js';

export interface UiServerOptions {
  /** The Kraken API (an agent's `http://host:port`); /graphql is proxied there. */
  api: string;
  port?: number;
  host?: string;
  /** Bundle folder; defaults to this package's `public/`. */
  root?: string;
}

export interface RunningUiServer {
  /** `http://host:port` with the port actually bound. */
  url: string;
  close(): Promise<void>;
}

/** The standalone UI: the bundle, plus /graphql (HTTP and WebSocket) forwarded to the API. */
export async function startUiServer(options: UiServerOptions): Promise<RunningUiServer> {
  const proxy = createApiProxy(options.api);
  const app = express();
  app.disable('x-powered-by');
  app.use('/graphql', (req, res) => {
    // express strips the mount path; the upstream wants it back
    req.url = req.originalUrl;
    proxy.request(req, res);
  });
  app.use(uiMiddleware(options.root === undefined ? {} : { root: options.root }));
  const server = http.createServer(app);
  // server.close() does not track upgraded sockets: close() ends the live WebSockets itself.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req, socket, head) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    if ((req.url ?? '').startsWith('/graphql')) proxy.upgrade(req, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${String(port)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      }),
  };
}
