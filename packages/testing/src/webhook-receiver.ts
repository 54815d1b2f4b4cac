import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The body parsed as JSON, or the raw text when it is not JSON. */
  body: unknown;
  /** The status this receiver answered. */
  status: number;
}

export interface WebhookReceiver extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`: append a path of your choice. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly received: readonly ReceivedRequest[];
  /** Answers the next `count` requests with `status` (e.g. 500) before answering 204 again. */
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

/** A local HTTP server that records what is POSTed to it, for tests of webhooks; loopback only, on a free port. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  let failures: { left: number; status: number } = { left: 0, status: 500 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text: the test sees what was sent
      }
      const status = failures.left > 0 ? failures.status : 204;
      if (failures.left > 0) failures = { ...failures, left: failures.left - 1 };
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });
  return {
    url: `http://127.0.0.1:${String(port)}`,
    received,
    failNext(count, status = 500) {
      failures = { left: count, status };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
