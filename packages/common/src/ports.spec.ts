import { createServer } from 'node:net';
import { freePort, freePortRange } from './ports.js';

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
