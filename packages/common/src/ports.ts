import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that is free now and unlikely to be taken later. Ports are drawn below
 * the kernel's ephemeral range, so an outgoing connection cannot grab one while its owner is down
 * (a RabbitNode restarts on the same port after kill()).
 */
export async function freePort(): Promise<number> {
  const ephemeralLow = await ephemeralRangeStart();
  const low = 10_000;
  if (ephemeralLow - low >= 1_000) {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const port = low + Math.floor(Math.random() * (ephemeralLow - low));
      if (await canListen(port)) return port;
    }
  }
  return listenOn(0);
}

async function ephemeralRangeStart(): Promise<number> {
  try {
    const [first] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/);
    return Number(first);
  } catch {
    return 0; // not Linux: let the kernel choose
  }
}

async function canListen(port: number): Promise<boolean> {
  try {
    await listenOn(port);
    return true;
  } catch {
    return false;
  }
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error(`unexpected listen address ${String(address)}`));
      });
    });
  });
}

