import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import path from 'node:path';
import Docker from 'dockerode';
import { ErrorCode } from '@kraken/common';
import { tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { docker } from '../test/fixtures.js';
import { DockerDeployer } from './deployer.js';

let work: TempDir;

beforeAll(async () => {
  work = await tempDir('kraken-engine-it-');
});

afterAll(async () => {
  await work.remove();
});

function deployerFor(client: Docker): DockerDeployer {
  return new DockerDeployer({ docker: client, nodeId: 'ping-it', workDir: path.join(work.path, 'work') });
}

describe('DockerDeployer.ping', () => {
  it('resolves when the real engine answers', async () => {
    await expect(deployerFor(docker).ping()).resolves.toBeUndefined();
  });

  it('rejects with Unavailable naming the socket when nothing listens on it', async () => {
    const socketPath = path.join(work.path, 'no-engine.sock');
    const attempt = deployerFor(new Docker({ socketPath })).ping(2000);
    await expect(attempt).rejects.toMatchObject({ code: ErrorCode.Unavailable, details: { engine: socketPath } });
    await expect(deployerFor(new Docker({ socketPath })).ping(2000)).rejects.toThrow(`the Docker engine at ${socketPath} did not answer`);
  });

  it('rejects with Unavailable once the timeout passes when the socket accepts but never answers', async () => {
    const socketPath = path.join(work.path, 'silent.sock');
    const connections: Socket[] = [];
    const silent: Server = createServer((socket) => connections.push(socket));
    await new Promise<void>((resolve) => silent.listen(socketPath, resolve));
    try {
      const attempt = deployerFor(new Docker({ socketPath })).ping(300);
      await expect(attempt).rejects.toMatchObject({ code: ErrorCode.Unavailable, message: `the Docker engine at ${socketPath} did not answer within 300 ms` });
    } finally {
      for (const socket of connections) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('refuses a timeout that is not a positive number of milliseconds', async () => {
    await expect(deployerFor(docker).ping(0)).rejects.toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'timeoutMs' } });
  });
});
