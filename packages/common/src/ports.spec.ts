import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { ErrorCode, KrakenError } from './errors.js';
import { freePort, freePortRange, listenFailure } from './ports.js';

async function listen(port: number, host: string): Promise<() => Promise<void>> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return () =>
    new Promise((resolve) => {
      server.close(() => {
        resolve();
      });
    });
}

describe('freePort', () => {
  it('returns a port that can be listened on at once, on every address, outside the ports a Kraken on this machine hands out', async () => {
    const port = await freePort();
    const close = await listen(port, '0.0.0.0');
    await close();
    expect(port).toBeGreaterThanOrEqual(10_000);
    expect(port).toBeLessThan(20_000);
  });
});

describe('freePortRange', () => {
  it('returns consecutive ports that are all free, outside the ports a Kraken on this machine hands out', async () => {
    const range = await freePortRange(20);
    expect(range.max - range.min).toBe(19);
    expect(range.max).toBeLessThan(20_000);
    for (let port = range.min; port <= range.max; port += 1) await (await listen(port, '0.0.0.0'))();
  });

  it('refuses a size that is not a positive integer', async () => {
    await expect(freePortRange(0)).rejects.toThrow(/size must be a positive integer/);
  });
});

describe('listenFailure', () => {
  const failedListen = async (port: number, host: string) => {
    const server = createServer();
    return new Promise<unknown>((resolve) => {
      server.once('error', resolve);
      server.listen(port, host, () => {
        server.close();
        resolve(undefined);
      });
    });
  };

  it('names the address and what to do for a port another program holds', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const failure = listenFailure(await failedListen(port, '127.0.0.1'), 'the API', '127.0.0.1', port);
      expect({ code: failure instanceof KrakenError ? failure.code : 'not a KrakenError', message: failure.message }).toEqual({
        code: ErrorCode.Conflict,
        message: `the API cannot listen on 127.0.0.1:${port}: another program (or another Kraken) holds that port; stop it or choose another port`,
      });
    } finally {
      holder.close();
    }
  });

  it('says when the address is not one of this machine', async () => {
    const failure = listenFailure(await failedListen(0, '192.0.2.1'), 'the API', '192.0.2.1', 4000);
    expect(failure.message).toBe('the API cannot listen on 192.0.2.1:4000: 192.0.2.1 is not an address of this machine');
  });

  it('returns other errors as they are', () => {
    const other = new Error('something else');
    expect(listenFailure(other, 'the API', '127.0.0.1', 4000)).toBe(other);
  });
});
