import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { listeningPortsOfGroup, listeningSockets, parseListeningSockets, portHolders } from './sockets.js';

// Lines as the kernel writes them: a listener on 0.0.0.0:7211, an established connection, a listener on [::]:8080.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1C2B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1C2B 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 31338 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
`;

describe('parseListeningSockets', () => {
  it('keeps the listening sockets of an IPv4 table with their port and inode', () => {
    expect(parseListeningSockets(TCP)).toEqual([{ port: 7211, inode: 31337 }]);
  });

  it('reads IPv6 tables the same way', () => {
    expect(parseListeningSockets(TCP6)).toEqual([{ port: 8080, inode: 4242 }]);
  });

  it('gives nothing for an empty or garbled table', () => {
    expect(parseListeningSockets('')).toEqual([]);
    expect(parseListeningSockets('header\nnot a socket line\n   0: zz:zz 0 0A a b c d e f\n')).toEqual([]);
  });
});

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
