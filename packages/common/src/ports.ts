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


/**
 * What a server's failed `listen` means to the person who started it, as a KrakenError naming the
 * address: a port someone else holds (Conflict), one this user may not bind, or an address that
 * is not this machine's (InvalidConfig). Other errors are returned as they are.
 */
export function listenFailure(error: unknown, what: string, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${String(port)}`;
  const details = { host, port, code };
  switch (code) {
    case 'EADDRINUSE':
      return new KrakenError(ErrorCode.Conflict, `${what} cannot listen on ${where}: another program (or another Kraken) holds that port; stop it or choose another port`, { details, cause: error });
    case 'EACCES':
    case 'EPERM':
      return new KrakenError(ErrorCode.InvalidConfig, `${what} cannot listen on ${where}: this user may not bind port ${String(port)} (ports below 1024 need root or CAP_NET_BIND_SERVICE); choose a port from 1024 up`, { details, cause: error });
    case 'EADDRNOTAVAIL':
      return new KrakenError(ErrorCode.InvalidConfig, `${what} cannot listen on ${where}: ${host} is not an address of this machine`, { details, cause: error });
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}
