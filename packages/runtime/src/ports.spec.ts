import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { ErrorCode } from '@kraken/common';
import { assertPortFree, pickFreePort } from './ports.js';

async function listen(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '0.0.0.0', exclusive: true }, resolve);
  });
  return server;
}

describe('host ports', () => {
  it('picks a port nothing listens on, which the app can then bind', async () => {
    const port = await pickFreePort();
    expect(port).toBeGreaterThan(0);
    await assertPortFree(port, 'd1');
    const server = await listen(port);
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses a port something listens on as a Conflict of the run step naming the port', async () => {
    const server = await listen(0);
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error(`unexpected address ${String(address)}`);
    try {
      await expect(assertPortFree(address.port, 'd1')).rejects.toMatchObject({
        code: ErrorCode.Conflict,
        deploymentId: 'd1',
        details: { step: 'run', hostPort: address.port },
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
