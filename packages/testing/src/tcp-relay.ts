import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
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
  close(): Promise<void>;
}

/** A TCP relay that delays what passes through it, for tests of timing on a slow link. */
export async function startTcpRelay(options: TcpRelayOptions): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // a reset on one side closes the pair below; the error itself says nothing the test needs
    socket.on('error', () => socket.destroy());
  };
  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), options.delayMs));
    from.on('end', () => setTimeout(() => to.end(), options.delayMs));
    from.on('close', () => setTimeout(() => to.destroy(), options.delayMs));
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
  return { address: host, port, close, [Symbol.asyncDispose]: close };
}
