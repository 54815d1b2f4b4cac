import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { ErrorCode, KrakenError } from '@kraken/common';
import type { TcpEndpoint } from './netns-lab.js';

export interface TcpRelayOptions {
  /** Where the relay listens. @default 127.0.0.1 on a free port */
  listen?: Partial<TcpEndpoint>;
  target: TcpEndpoint;
  /** Added to every chunk in each direction, in order: a slow link, as `netem delay` would (this kernel has none). */
  delayMs: number;
}

export interface TcpRelay extends AsyncDisposable {
  readonly address: string;
  readonly port: number;
  /** What each chunk is held now. */
  readonly delayMs: number;
  /**
   * Changes the delay from now on, for open connections too (a link that turns slow and back).
   * Nothing overtakes what is already held: after a drop to 0, new chunks wait for the held ones.
   */
  setDelay(delayMs: number): void;
  close(): Promise<void>;
}

function checkedDelay(delayMs: number): number {
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new KrakenError(ErrorCode.InvalidInput, `tcp relay: the delay must be 0 ms or more, got ${String(delayMs)}`);
  return delayMs;
}

/** A TCP relay that delays what passes through it, for tests of timing on a slow link. */
export async function startTcpRelay(options: TcpRelayOptions): Promise<TcpRelay> {
  let delayMs = checkedDelay(options.delayMs);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // a reset on one side closes the pair below; the error itself says nothing the test needs
    socket.on('error', () => socket.destroy());
  };
  /**
   * One queue per direction, released in order by one timer: timers of different lengths could
   * otherwise fire out of order once the delay changes, and reorder the stream.
   */
  const forward = (from: Socket, to: Socket) => {
    const held: { dueAt: number; release: () => void }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      timer = undefined;
      while (held.length > 0 && (held[0]?.dueAt ?? 0) <= Date.now()) held.shift()?.release();
      const next = held[0];
      if (next !== undefined) timer = setTimeout(pump, next.dueAt - Date.now());
    };
    const hold = (release: () => void) => {
      held.push({ dueAt: Math.max(Date.now() + delayMs, held.at(-1)?.dueAt ?? 0), release });
      if (timer === undefined) pump();
    };
    from.on('data', (chunk) => {
      hold(() => to.destroyed || to.write(chunk));
    });
    from.on('end', () => {
      hold(() => to.end());
    });
    from.on('close', () => {
      hold(() => to.destroy());
    });
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host: options.target.address, port: options.target.port });
    track(client);
    track(upstream);
    forward(client, upstream);
    forward(upstream, client);
  });
  const host = options.listen?.address ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen?.port ?? 0, host, () => {
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  };
  return {
    address: host,
    port,
    get delayMs() {
      return delayMs;
    },
    setDelay: (next) => {
      delayMs = checkedDelay(next);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
