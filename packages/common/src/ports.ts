import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { ErrorCode, KrakenError } from './errors.js';

/** Kraken's default host ports for apps (the orchestrator's DEFAULT_PORT_RANGE): a Kraken on this machine takes them. */
const krakenAppPorts = { min: 20_000, max: 29_999 };
const lowest = 10_000;

/**
 * A TCP port that is free now, on every address, and unlikely to be taken later. Ports are drawn
 * below both Kraken's app port range (a Kraken running on this machine hands those out at any
 * time) and the kernel's ephemeral range (an outgoing connection could grab one while its owner is
 * down, e.g. a RabbitNode that restarts on the same port after kill()).
 */
export async function freePort(): Promise<number> {
  return (await freePortRange(1)).min;
}

/**
 * `size` consecutive TCP ports, all free now on every address and drawn like freePort's: a port
 * range for something that hands ports out (an orchestrator's portRange), so that what it places
 * does not meet a port taken by whatever else runs on the machine.
 */
export async function freePortRange(size: number): Promise<{ min: number; max: number }> {
  if (!Number.isInteger(size) || size < 1) {
    throw new KrakenError(ErrorCode.InvalidInput, `freePortRange: size must be a positive integer, got ${String(size)}`);
  }
  const high = Math.min(krakenAppPorts.min, await ephemeralRangeStart());
  if (high - lowest >= size * 10) {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const min = lowest + Math.floor(Math.random() * (high - lowest - size + 1));
      if (await allFree(min, size)) return { min, max: min + size - 1 };
    }
  }
  if (size === 1) {
    // a crowded or unusual machine: let the kernel choose one
    const port = await listenOn(0);
    return { min: port, max: port };
  }
  throw new KrakenError(ErrorCode.Unavailable, `freePortRange: found no ${String(size)} consecutive free ports between ${String(lowest)} and ${String(high)}`);
}

async function ephemeralRangeStart(): Promise<number> {
  try {
    const [first] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/);
    return Number(first);
  } catch {
    return 0; // not Linux: let the kernel choose
  }
}

async function allFree(min: number, size: number): Promise<boolean> {
  for (let port = min; port < min + size; port += 1) {
    try {
      await listenOn(port);
    } catch {
      return false;
    }
  }
  return true;
}

/** Listens on `port` on every address (as Docker publishes ports), then closes; resolves with the port. */
function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error(`unexpected listen address ${String(address)}`));
      });
    });
  });
}

