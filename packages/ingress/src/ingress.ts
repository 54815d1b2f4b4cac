import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import type { Logger } from '@kraken/common';
import { noopLogger, optionChecks } from '@kraken/common';
import { ProxyServer } from 'http-proxy-3';
import type { IngressAnswer } from './pages.js';
import { notRunningPage, unknownHostPage, upstreamFailedPage } from './pages.js';
import type { Route } from './route-table.js';

/** Where the ingress looks names up (a RouteTable). */
export interface RouteSource {
  lookup(host: string | undefined): Route | undefined;
}

export interface IngressOptions {
  routes: RouteSource;
  /** How long to wait for an instance to take a connection (a machine that lost power never refuses one). @default 3_000 */
  connectTimeoutMs?: number;
  /** How long the upstream connection may stay silent (before or during its answer) before the client gets a 504. @default 60_000 */
  idleTimeoutMs?: number;
  /** Idle keep-alive connections kept per instance. @default 64 */
  maxIdleSocketsPerUpstream?: number;
  logger?: Logger;
}

export interface ListenOptions {
  port: number;
  /** @default '0.0.0.0' */
  host?: string;
}

/** What a request was routed to, kept on it for the error callback. */
type Routed = http.IncomingMessage & { krakenRoute?: Route; krakenTimedOut?: boolean; krakenRetried?: boolean };

function isResetBeforeAnswer(error: unknown, res: http.ServerResponse): boolean {
  const code = (error as { code?: unknown }).code;
  return (code === 'ECONNRESET' || code === 'EPIPE') && !res.headersSent && !res.destroyed;
}

/** Whether the request carries a body, which was streamed to the app and cannot be sent again. */
function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * The HTTP reverse proxy every agent runs: a request for `<name>` (its Host header's first label)
 * goes to wherever that deployment runs now, WebSocket upgrades included, with X-Forwarded-For,
 * -Host, -Port and -Proto added. Bodies stream both ways. Connections to instances are kept alive
 * and reused. It never leaves a client hanging: an unknown name gets 404, a deployment without a
 * running instance 503, an instance that refuses 502 and one that stays silent 504.
 */
export class Ingress implements AsyncDisposable {
  private readonly proxy: ProxyServer;
  private readonly server: http.Server;
  private readonly agent: http.Agent;
  private readonly upgraded = new Set<Duplex>();
  /** Client sockets an instance switched to WebSocket: they speak frames now, not HTTP. */
  private readonly switched = new WeakSet<Duplex>();
  private readonly logger: Logger;
  private closing: Promise<void> | undefined;

  private constructor(private readonly options: IngressOptions) {
    const checks = optionChecks('Ingress');
    const connectTimeout = checks.positiveDuration('connectTimeoutMs', options.connectTimeoutMs ?? 3_000);
    const idleTimeout = checks.positiveDuration('idleTimeoutMs', options.idleTimeoutMs ?? 60_000);
    const maxFreeSockets = checks.numberIn('maxIdleSocketsPerUpstream', options.maxIdleSocketsPerUpstream ?? 64, 1, 10_000);
    this.logger = (options.logger ?? noopLogger).child({ component: 'ingress' });
    this.agent = new http.Agent({ keepAlive: true, maxFreeSockets, scheduling: 'lifo' });
    this.proxy = new ProxyServer({ ws: true, xfwd: true, agent: this.agent, connectTimeout, proxyTimeout: idleTimeout });
    this.proxy.on('proxyReq', (proxyReq, req) => {
      proxyReq.once('timeout', () => {
        (req as Routed).krakenTimedOut = true;
      });
    });
    this.proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
      proxyReq.prependListener('upgrade', () => {
        this.switched.add(socket);
      });
    });
    // errors come to each request's callback; this only keeps a stray one from ending the agent
    this.proxy.on('error', (error) => {
      this.logger.debug('forwarding failed', { error: error.message });
    });
    this.server = http.createServer((req, res) => {
      this.forward(req, res);
    });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.forwardUpgrade(req, socket, head);
    });
    // a client that sends garbage gets a 400 and its socket closed, never an exception
    this.server.on('clientError', (_error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  /** An ingress listening on `port` (0: one the kernel picks); rejects when the port cannot be had (EADDRINUSE, EACCES). */
  static async listen(options: IngressOptions & ListenOptions): Promise<Ingress> {
    const ingress = new Ingress(options);
    await new Promise<void>((resolve, reject) => {
      ingress.server.once('error', reject);
      ingress.server.listen(options.port, options.host ?? '0.0.0.0', () => {
        ingress.server.off('error', reject);
        resolve();
      });
    });
    return ingress;
  }

  /** The port it listens on. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and drops every connection, upgraded ones too, so the port is free at once. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => {
        this.server.close(() => {
          resolve();
        });
      });
      this.server.closeAllConnections();
      for (const socket of this.upgraded) socket.destroy();
      this.agent.destroy();
      await closed;
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const answer = (page: IngressAnswer) => {
      if (res.destroyed) return;
      // an instance that died half-way through its answer: the client sees the answer cut short
      if (res.headersSent) res.destroy();
      else res.writeHead(page.status, { ...page.headers, 'content-length': String(Buffer.byteLength(page.body)) }).end(page.body);
    };
    const route = this.route(req, answer);
    if (route?.upstream === undefined) return;
    // hop-by-hop: a client that closes its connection must not close the kept-alive one to the app
    delete req.headers.connection;
    delete req.headers['keep-alive'];
    delete req.headers['proxy-connection'];
    const upstream = route.upstream;
    this.proxy.web(req, res, { target: upstream }, (error) => {
      // A kept-alive connection the app closed just as this request went out: the app never saw it.
      // A request without a body is sent once more, on a new connection, before the client sees an error.
      const routed = req as Routed;
      if (isResetBeforeAnswer(error, res) && !hasBody(req) && routed.krakenRetried !== true && routed.krakenTimedOut !== true) {
        routed.krakenRetried = true;
        this.proxy.web(req, res, { target: upstream, buffer: Readable.from([]) }, (again) => {
          answer(this.failed(req, route, again));
        });
        return;
      }
      answer(this.failed(req, route, error));
    });
  }

  private forwardUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    this.upgraded.add(socket);
    socket.once('close', () => this.upgraded.delete(socket));
    const answer = (page: IngressAnswer) => {
      if (socket.writable) socket.end(rawResponse(page));
    };
    const route = this.route(req, answer);
    if (route?.upstream === undefined) return;
    this.proxy.ws(req, socket, head, { target: route.upstream }, (error) => {
      // after the switch to WebSocket the socket speaks frames: it just closes (the client reconnects)
      if (this.switched.has(socket)) socket.destroy();
      else answer(this.failed(req, route, error));
    });
  }

  /** The route for `req`, marked on it; undefined, or without upstream, after answering itself. */
  private route(req: http.IncomingMessage, answer: (page: IngressAnswer) => void): Route | undefined {
    const route = this.options.routes.lookup(req.headers.host);
    if (route === undefined) {
      answer(unknownHostPage(req.headers.host));
      return undefined;
    }
    if (route.upstream === undefined) answer(notRunningPage(route));
    else (req as Routed).krakenRoute = route;
    return route;
  }

  private failed(req: http.IncomingMessage, route: Route, error: unknown): IngressAnswer {
    const code = (error as { code?: unknown }).code;
    const timedOut = (req as Routed).krakenTimedOut === true || code === 'ECONNECT_TIMEOUT';
    const message = error instanceof Error ? error.message : String(error);
    const why = timedOut ? 'its instance stayed silent' : `its instance at ${route.upstream ?? '?'} did not answer (${typeof code === 'string' ? code : message})`;
    this.logger.debug('an instance did not answer', { deploymentId: route.deploymentId, upstream: route.upstream, error: message, timedOut });
    return upstreamFailedPage(route, timedOut, why);
  }
}

function rawResponse(page: IngressAnswer): string {
  const lines = [`HTTP/1.1 ${String(page.status)} ${http.STATUS_CODES[page.status] ?? ''}`, ...Object.entries(page.headers).map(([name, value]) => `${name}: ${value}`)];
  lines.push(`content-length: ${String(Buffer.byteLength(page.body))}`, 'connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${page.body}`;
}
