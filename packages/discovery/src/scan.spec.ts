import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { freePort } from '@kraken/testing';
import type { ScanProgress } from './scan.js';
import { planScan, scanSubnet } from './scan.js';

describe('planScan', () => {
  it('refuses to scan without an explicit interface or network, or with both', () => {
    expect(() => planScan({ port: 4000 })).toThrow(
      'scanSubnet: interfaceName: give interfaceName (scan its subnet) or cidr, exactly one: a scan never picks a network by itself',
    );
    expect(() => planScan({ port: 4000, interfaceName: 'eth0', cidr: '10.0.0.0/24' })).toThrow(/exactly one/);
  });

  it('refuses networks wider than /24 unless allowed, and wider than /16 always', () => {
    expect(() => planScan({ port: 4000, cidr: '10.0.0.0/23' })).toThrow(
      /cidr: 10.0.0.0\/23 is wider than \/24; pass a \/24 as cidr .* or allowLargeSubnet for up to \/16/,
    );
    expect(planScan({ port: 4000, cidr: '10.0.0.0/20', allowLargeSubnet: true }).network.cidr).toBe('10.0.0.0/20');
    expect(() => planScan({ port: 4000, cidr: '10.0.0.0/8', allowLargeSubnet: true })).toThrow(/10.0.0.0\/8 is wider than \/16$/);
  });

  it('fills in the defaults: 64 probes at once, 300 ms per host', () => {
    expect(planScan({ port: 4000, cidr: '10.0.0.0/24' })).toMatchObject({
      concurrency: 64,
      timeoutMs: 300,
      localAddress: undefined,
    });
  });

  it.each([
    [{ port: 0 }, /port: expected a port from 1 to 65535, got 0/],
    [{ concurrency: 0 }, /concurrency: expected an integer from 1 to 1024, got 0/],
    [{ timeoutMs: 1 }, /timeoutMs: expected 10 to 60000 ms, got 1/],
    [{ clusterId: 'a b' }, /clusterId: "a b" is not a cluster id/],
    [{ cidr: 'eth0' }, /cidr: "eth0" is not an IPv4 CIDR/],
    [{ localAddress: '10.255.255.254' }, /localAddress: 10.255.255.254 is not an address of this machine/],
  ])('refuses %j', (change, message) => {
    expect(() => planScan({ port: 4000, cidr: '10.0.0.0/24', ...change })).toThrow(message);
  });

  it('names the interfaces there are when the one given has no IPv4 address', () => {
    expect(() => planScan({ port: 4000, interfaceName: 'no-such-if0' })).toThrow(
      /interfaceName: no IPv4 address on interface "no-such-if0"/,
    );
  });
});

// Loopback only: every 127.x address is this machine, so a few servers on 127.0.0.2-5 make a small
// "subnet" without any packet leaving it.
describe('scanSubnet on loopback', () => {
  let port: number;
  const closers: (() => void)[] = [];

  async function serve(address: string, handler: http.RequestListener | 'hang'): Promise<void> {
    const server = handler === 'hang' ? net.createServer(() => undefined) : http.createServer(handler);
    server.listen(port, address);
    await once(server, 'listening');
    closers.push(() => {
      server.close();
      if (server instanceof http.Server) server.closeAllConnections();
    });
  }

  beforeAll(async () => {
    port = await freePort();
    await serve('127.0.0.2', (_request, response) => {
      response.writeHead(200, { 'x-kraken-cluster-id': 'home', 'x-kraken-protocol': '2' }).end('pong\n');
    });
    await serve('127.0.0.3', (_request, response) => response.writeHead(404).end('pong'));
    await serve('127.0.0.4', (_request, response) => response.writeHead(200).end('hello'));
    await serve('127.0.0.5', 'hang');
    await serve('127.0.0.6', (_request, response) => response.writeHead(200).end('pong'));
  });

  afterAll(() => {
    for (const close of closers) close();
  });

  it('reports only the hosts answering 200 pong, reads their headers and flags another protocol major', async () => {
    const progress: ScanProgress[] = [];
    const result = await scanSubnet({ cidr: '127.0.0.0/29', port, timeoutMs: 500, onProgress: (p) => progress.push(p) });

    expect(result.candidates).toEqual([
      {
        url: `http://127.0.0.2:${port}`,
        source: 'scan',
        clusterId: 'home',
        role: undefined,
        priority: undefined,
        protocolVersion: '2',
        compatible: false,
      },
      {
        url: `http://127.0.0.6:${port}`,
        source: 'scan',
        clusterId: undefined,
        role: undefined,
        priority: undefined,
        protocolVersion: undefined,
        compatible: true,
      },
    ]);
    expect(result).toMatchObject({ cidr: '127.0.0.0/29', total: 6, scanned: 6, aborted: false });
    expect(progress).toHaveLength(6);
    expect(progress.at(-1)).toEqual({ scanned: 6, total: 6, found: 2 });
  });

  it('keeps hosts without a cluster header when filtering by cluster, and drops those of another cluster', async () => {
    const result = await scanSubnet({ cidr: '127.0.0.0/29', port, clusterId: 'office' });
    expect(result.candidates.map((candidate) => candidate.url)).toEqual([`http://127.0.0.6:${port}`]);
  });

  it('never has more probes in flight than the concurrency allows, and uses all of it', async () => {
    let inFlight = 0;
    let most = 0;
    const slowPong: http.RequestListener = (_request, response) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        response.writeHead(200).end('pong');
      }, 200);
    };
    const busyPort = await freePort();
    const servers: http.Server[] = [];
    // every host of 127.0.1.0/28 answers, slowly
    for (let host = 1; host <= 14; host += 1) {
      const server = http.createServer(slowPong);
      server.listen(busyPort, `127.0.1.${host}`);
      servers.push(server);
      await once(server, 'listening');
    }
    try {
      const result = await scanSubnet({ cidr: '127.0.1.0/28', port: busyPort, concurrency: 3, timeoutMs: 5_000 });
      expect(result.candidates).toHaveLength(14);
      expect(most).toBe(3);
    } finally {
      for (const server of servers) server.close();
    }
  });

  it('lists the candidates in address order, whatever order they answered in', async () => {
    const orderPort = await freePort();
    // the lower address answers only once the higher one has been reported
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const servers = [
      http.createServer((_request, response) => {
        void released.then(() => response.writeHead(200).end('pong'));
      }),
      http.createServer((_request, response) => response.writeHead(200).end('pong')),
    ];
    for (const [index, server] of servers.entries()) {
      server.listen(orderPort, `127.0.2.${index + 1}`);
      await once(server, 'listening');
    }
    try {
      const answered: string[] = [];
      const result = await scanSubnet({
        cidr: '127.0.2.0/29',
        port: orderPort,
        timeoutMs: 5_000,
        onCandidate: (candidate) => {
          answered.push(candidate.url);
          release();
        },
      });
      expect(answered).toEqual([`http://127.0.2.2:${orderPort}`, `http://127.0.2.1:${orderPort}`]);
      expect(result.candidates.map((candidate) => candidate.url)).toEqual([
        `http://127.0.2.1:${orderPort}`,
        `http://127.0.2.2:${orderPort}`,
      ]);
    } finally {
      release();
      for (const server of servers) {
        server.close();
        server.closeAllConnections();
      }
    }
  });

  it('stops when the signal aborts, and says so', async () => {
    const controller = new AbortController();
    const result = await scanSubnet({
      cidr: '127.0.0.0/29',
      port,
      concurrency: 1,
      signal: controller.signal,
      onCandidate: () => {
        controller.abort();
      },
    });
    expect(result).toMatchObject({ aborted: true, scanned: 2, total: 6 });
    expect(result.candidates).toHaveLength(1);
  });
});
