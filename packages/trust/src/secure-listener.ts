import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { listenFailure } from '@kraken/common';

/** The certificate a server presents (its chain: its own, then the cluster CA's) and its key. */
export interface ServedIdentity {
  chainPem: string;
  keyPem: string;
}

export interface SecureListenOptions {
  port: number;
  host: string;
  /** Names the server in errors ("the API"). */
  what: string;
  /** Undefined: plain HTTP for everyone (`--insecure-no-tls`). */
  identity: ServedIdentity | undefined;
}

/** Where a server listens, and how to stop taking connections (those taken are the server's to end). */
export interface SecureListening {
  /** `https://host:port` (or `http://` without an identity), with the port actually bound. */
  url: string;
  address: AddressInfo;
  close(): Promise<void>;
}

/** The first byte of a TLS handshake record: a connection starting with anything else speaks plain HTTP. */
const TLS_HANDSHAKE = 0x16;

/**
 * Listens for `server` (which does not listen itself) on one port that speaks both: TLS to
 * everyone, plain HTTP only to this machine (loopback), so that the first start's UI opens at
 * http://127.0.0.1 without a certificate warning while nothing crosses the LAN in clear. A plain
 * connection from another machine gets a short 403 naming the https URL, and reaches no handler.
 * Both kinds end up in `server`, so its request and upgrade handlers serve them alike
 * (`req.socket.encrypted` tells them apart).
 */
export async function listenSecure(server: http.Server, options: SecureListenOptions): Promise<SecureListening> {
  const { identity } = options;
  const secureContext = identity === undefined ? undefined : tls.createSecureContext({ cert: identity.chainPem, key: identity.keyPem });
  const gate = net.createServer((socket) => {
    if (secureContext === undefined) {
      server.emit('connection', socket);
      return;
    }
    // a peer that connects and sends nothing is not waited for by anyone else
    socket.setTimeout(30_000, () => socket.destroy());
    socket.once('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        // not the socket itself: TLS would read its handle directly and miss the byte read above
        const secure = new tls.TLSSocket(Duplex.from({ readable: socket, writable: socket }), { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
        // a failed handshake (a client that does not trust the CA) ends that connection only
        secure.once('error', () => secure.destroy());
        server.emit('connection', secure);
      } else if (isLoopback(socket.remoteAddress)) {
        server.emit('connection', socket);
      } else {
        refusePlain(socket, localUrl(socket));
        return;
      }
      socket.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const refused = (error: unknown): void => {
      reject(listenFailure(error, options.what, options.host, options.port));
    };
    gate.once('error', refused);
    gate.listen(options.port, options.host, () => {
      gate.off('error', refused);
      resolve();
    });
  });
  const address = gate.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${identity === undefined ? 'http' : 'https'}://${shownHost}:${String(address.port)}`,
    address,
    // the port is free once the gate stops listening; the connections it took are the server's to end
    close: () => {
      if (gate.listening) gate.close();
      return Promise.resolve();
    },
  };
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4.startsWith('127.') || v4 === '::1';
}

/** The https URL of the address the peer reached, for the refusal to name. */
function localUrl(socket: net.Socket): string {
  const host = socket.localAddress ?? 'this-agent';
  const shown = host.includes(':') && !host.startsWith('::ffff:') ? `[${host}]` : host.replace(/^::ffff:/, '');
  return `https://${shown}:${String(socket.localPort ?? '')}/`;
}

function refusePlain(socket: net.Socket, url: string): void {
  const body = `This agent answers other machines over HTTPS only: ${url}\n`;
  socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${String(Buffer.byteLength(body))}\r\nconnection: close\r\n\r\n${body}`);
}
