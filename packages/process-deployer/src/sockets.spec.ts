import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { listeningSockets } from '@kraken/common';
import { listeningPortsOfGroup, portHolders } from './sockets.js';

describe('the kernel tables of this machine', () => {
  it("finds this process's own listener and names this process as its holder", async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      expect((await listeningSockets()).map((socket) => socket.port)).toContain(port);
      const holders = await portHolders(port);
      expect(holders).toEqual([expect.objectContaining({ pid: process.pid, pgid: expect.any(Number) as number })]);
      expect(holders[0]?.command).toContain('node');
    } finally {
      server.close();
    }
  }, 30_000);

  it('finds the port a child listens on through its process group, including a grandchild in a session of its own', async () => {
    // the group leader is a shell; the listener is a node it starts with setsid, outside the group
    const script = "require('net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port + ' ' + process.pid) })";
    const child = spawn('sh', ['-c', `setsid ${JSON.stringify(process.execPath)} -e ${JSON.stringify(script)}`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    const [port, listener] = chunk.toString().trim().split(' ').map(Number) as [number, number];
    try {
      const holders = await portHolders(port);
      expect(holders).toEqual([expect.objectContaining({ pid: listener, command: expect.stringContaining('createServer') as string })]);
      expect(holders[0]?.pgid).not.toBe(child.pid);
      expect(await listeningPortsOfGroup(child.pid!)).toEqual([port]);
    } finally {
      // the setsid'd node left the group: it is killed by its own pid
      process.kill(listener, 'SIGKILL');
      process.kill(-child.pid!, 'SIGKILL');
    }
  }, 30_000);
});
