import type Docker from 'dockerode';
import { ErrorCode, KrakenError, withTimeout } from '@kraken/common';
import { engineMessage } from './errors.js';

/** The parts of docker-modem's client that say where the engine is. */
interface ModemAddress {
  socketPath?: unknown;
  host?: unknown;
  port?: unknown;
  protocol?: unknown;
}

/** Where the client reaches the engine, for messages: the socket path, or protocol://host:port. */
function engineAddress(docker: Docker): string {
  const modem = docker.modem as ModemAddress;
  if (typeof modem.host === 'string' && modem.host !== '') {
    const protocol = typeof modem.protocol === 'string' ? modem.protocol : 'http';
    const port = typeof modem.port === 'string' || typeof modem.port === 'number' ? `:${String(modem.port)}` : '';
    return `${protocol}://${modem.host}${port}`;
  }
  // docker-modem leaves a finder function here when it picks the default socket itself
  return typeof modem.socketPath === 'string' ? modem.socketPath : 'the default Docker socket';
}

/**
 * `GET /_ping`, given up after `timeoutMs`: a socket nobody listens on fails at once, an engine
 * that hangs fails at the deadline. Either way Unavailable, naming the engine's address.
 */
export async function pingEngine(docker: Docker, timeoutMs: number): Promise<void> {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new KrakenError(ErrorCode.InvalidInput, `ping timeout must be a number of milliseconds above 0; got ${String(timeoutMs)}`, { details: { field: 'timeoutMs' } });
  }
  const address = engineAddress(docker);
  const abort = new AbortController();
  try {
    // dockerode 4 takes an abortSignal for ping; its types do not list the option
    const ping = docker.ping.bind(docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
    // raced as well as aborted: the abort only ends the request once the modem has opened it
    await withTimeout(ping({ abortSignal: abort.signal }), timeoutMs, () => {
      abort.abort();
      throw new KrakenError(
        ErrorCode.Unavailable,
        `the Docker engine at ${address} did not answer within ${formatMs(timeoutMs)}`,
        { details: { engine: address, timeoutMs } },
      );
    });
  } catch (error) {
    if (error instanceof KrakenError) throw error;
    throw new KrakenError(ErrorCode.Unavailable, `the Docker engine at ${address} did not answer: ${engineMessage(error)}`, { details: { engine: address, timeoutMs }, cause: error });
  }
}

function formatMs(ms: number): string {
  return ms < 1000 || ms % 1000 !== 0 ? `${ms} ms` : `${ms / 1000} s`;
}
