import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@kraken/common';
import { appAnswer } from './app-answer.js';

describe('appAnswer', () => {
  it('gives the body the app answers, whatever the status', async () => {
    const server = http.createServer((request, response) => {
      response.statusCode = request.url === '/missing' ? 404 : 200;
      response.end(`you asked for ${request.url ?? ''}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await expect(appAnswer(port)).resolves.toBe('you asked for /');
      await expect(appAnswer(port, '/missing')).resolves.toBe('you asked for /missing');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gives undefined when nothing listens on the port', async () => {
    await expect(appAnswer(await freePort())).resolves.toBeUndefined();
  });

  it('gives undefined when the app accepts but does not answer in time', async () => {
    const server = http.createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await expect(appAnswer(port, '/', 200)).resolves.toBeUndefined();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
