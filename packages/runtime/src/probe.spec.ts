import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@kraken/testing';
import { ProbeSeries, probeHttp } from './probe.js';

/** A loopback HTTP server whose handler decides per request; closed after each test. */
async function serve(handler: http.RequestListener): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

describe('probeHttp', () => {
  it('counts any answer below 500 as ready, and a 5xx as not ready with its status', async () => {
    let status = 404;
    const app = await serve((_request, response) => {
      response.statusCode = status;
      response.end();
    });
    try {
      expect(await probeHttp(app.port, '/', 1000)).toEqual({ ready: true, status: 404 });
      status = 503;
      expect(await probeHttp(app.port, '/', 1000)).toEqual({ ready: false, status: 503, reason: 'HTTP 503' });
    } finally {
      await app.close();
    }
  });
});

describe('ProbeSeries', () => {
  it('sees the app answer while an earlier probe still hangs', async () => {
    let requests = 0;
    const app = await serve((_request, response) => {
      requests += 1;
      // the first request is held, as Docker's port proxy holds one made while the network comes up
      if (requests > 1) response.end('ok');
    });
    const probes = new ProbeSeries(app.port, '/', 10_000);
    try {
      probes.launch();
      await probes.wait(100);
      expect(probes.ready).toBe(false);
      probes.launch();
      await probes.wait(10_000);
      expect(probes.ready).toBe(true);
      expect(requests).toBe(2);
    } finally {
      probes.stop();
      await app.close();
    }
  });

  it('keeps the reason of the last probe that was not ready', async () => {
    const app = await serve((_request, response) => {
      response.statusCode = 502;
      response.end();
    });
    const probes = new ProbeSeries(app.port, '/health', 1000);
    try {
      probes.launch();
      await eventually(() => probes.lastReason !== 'no attempt yet', 5000, 'a first probe', 10);
      expect(probes.ready).toBe(false);
      expect(probes.lastReason).toBe('HTTP 502');
    } finally {
      probes.stop();
      await app.close();
    }
  });

  it('starts no more than maxInFlight probes while they all wait, and stop() ends them', async () => {
    const held: http.ServerResponse[] = [];
    const app = await serve((_request, response) => {
      held.push(response);
    });
    const probes = new ProbeSeries(app.port, '/', 10_000, 2);
    try {
      for (let attempt = 0; attempt < 5; attempt += 1) probes.launch();
      await eventually(() => held.length === 2, 5000, 'two held requests', 10);
      // a third request would have been sent with the first two
      await sleep(100);
      expect(held).toHaveLength(2);
      probes.stop();
      await eventually(() => held.every((response) => response.socket === null || response.socket.destroyed), 5000, 'the held requests closed', 10);
    } finally {
      await app.close();
    }
  });

  it('answersNow probes once more, whatever the earlier probes got: the app may serve now', async () => {
    let status = 502;
    const app = await serve((_request, response) => {
      response.statusCode = status;
      response.end();
    });
    const probes = new ProbeSeries(app.port, '/', 1000);
    try {
      expect(await probes.answersNow()).toBe(false);
      expect(probes.lastReason).toBe('HTTP 502');
      status = 200;
      expect(await probes.answersNow()).toBe(true);
      expect(probes.ready).toBe(true);
    } finally {
      probes.stop();
      await app.close();
    }
  });
});
