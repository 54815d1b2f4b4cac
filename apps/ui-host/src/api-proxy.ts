import http from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode, KrakenError } from '@kraken/common';

/** Forwards requests and WebSocket upgrades to one upstream HTTP server, unchanged. */
export interface ApiProxy {
  request(req: http.IncomingMessage, res: http.ServerResponse): void;
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
}

/**
 * A minimal reverse proxy over node:http: enough for GraphQL POSTs and graphql-ws, which is all
 * the UI talks to. Paths are appended to the target URL's origin; headers pass through (the
 * Authorization header included) except `host`, which names the upstream.
 */
export function createApiProxy(target: string | URL): ApiProxy {
  const upstream = new URL(target);
  if (upstream.protocol !== 'http:')
    throw new KrakenError(ErrorCode.InvalidInput, `api URL must be http://; got ${upstream.protocol} in ${upstream.href}`, { details: { field: 'api' } });
  const options = (req: http.IncomingMessage): http.RequestOptions => ({
    hostname: upstream.hostname,
    port: upstream.port === '' ? 80 : Number(upstream.port),
    method: req.method,
    path: req.url,
    headers: { ...req.headers, host: upstream.host },
  });

  return {
    request(req, res) {
      const outgoing = http.request(options(req), (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      });
      outgoing.on('error', (error) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: `cannot reach the Kraken API at ${upstream.origin}: ${error.message}`, extensions: { code: ErrorCode.Unavailable } }] }));
      });
      req.pipe(outgoing);
    },

    upgrade(req, socket, head) {
      const outgoing = http.request(options(req));
      outgoing.on('upgrade', (answer, upstreamSocket, upstreamHead) => {
        const lines = [`HTTP/1.1 ${String(answer.statusCode ?? 101)} ${answer.statusMessage ?? 'Switching Protocols'}`];
        for (let i = 0; i < answer.rawHeaders.length; i += 2) lines.push(`${answer.rawHeaders[i] ?? ''}: ${answer.rawHeaders[i + 1] ?? ''}`);
        socket.write(lines.join('\r\n') + '\r\n\r\n');
        if (upstreamHead.length > 0) socket.write(upstreamHead);
        if (head.length > 0) upstreamSocket.write(head);
        upstreamSocket.pipe(socket).pipe(upstreamSocket);
        upstreamSocket.on('error', () => socket.destroy());
        socket.on('error', () => upstreamSocket.destroy());
        upstreamSocket.on('close', () => socket.destroy());
        socket.on('close', () => upstreamSocket.destroy());
      });
      // The upstream refused the upgrade with a plain HTTP answer (e.g. 404): pass it on.
      outgoing.on('response', (answer) => {
        const lines = [`HTTP/1.1 ${String(answer.statusCode ?? 502)} ${answer.statusMessage ?? ''}`, 'connection: close'];
        socket.write(lines.join('\r\n') + '\r\n\r\n');
        answer.pipe(socket);
      });
      outgoing.on('error', () => {
        socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n');
      });
      outgoing.end();
    },
  };
}
