import http from 'node:http';
import https from 'node:https';
import { listenSecure } from '@kraken/trust';
import type { SecureListening, ServedIdentity } from '@kraken/trust';
import type { Duplex } from 'node:stream';
import type { Logger } from '@kraken/common';
import type { KnownLeader } from '@kraken/orchestrator';
import { ProxyServer } from 'http-proxy-3';
import { FORWARDED_BY_HEADER, LEADER_HEADER } from './headers.js';
import type { NoLeaderReason } from './no-leader.js';
import { noLeaderBody, noLeaderError } from './no-leader.js';


/** Where the leader is, as a LeaderWatch knows it. */
export interface LeaderSource {
  readonly leader: KnownLeader | undefined;
  silentForMs(): number | undefined;
}

export interface LeaderProxyOptions {
  /** This agent. */
  nodeId: string;
  leaders: LeaderSource;
  /** How long to wait for the leader to take a connection (a machine that lost power never refuses one). @default 3_000 */
  connectTimeoutMs?: number;
  /** The cluster CA: the only one a leader's https API is trusted by. @default the system's (plain HTTP leaders need none) */
  clusterCa?: string | undefined;
  logger: Logger;
}

export interface ListeningProxy {
  url: string;
  /** Stops listening and drops every connection, upgraded ones too, so the port is free at once. */
  close(): Promise<void>;
}

// errors that say the leader never got the request, so it cannot have been carried out
const NOT_REACHED = new Set(['ECONNREFUSED', 'ECONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * What an agent that does not lead serves on the API port: every HTTP request and WebSocket
 * upgrade (GraphQL, subscriptions, REST, the UI) goes to the leader unchanged, Authorization
 * included, for the leader to authenticate; the answer says which leader gave it. With no
 * reachable leader it answers 503 (code NO_LEADER) saying which one was last known.
 */
export class LeaderProxy {
  private readonly proxy: ProxyServer;
  private readonly server: http.Server;
  private gate: SecureListening | undefined;
  private readonly upgraded = new Set<Duplex>();
  /** Client sockets the leader switched to WebSocket: they speak frames now, not HTTP. */
  private readonly switched = new WeakSet<Duplex>();

  constructor(private readonly options: LeaderProxyOptions) {
    this.proxy = new ProxyServer({
      ws: true,
      xfwd: true,
      connectTimeout: options.connectTimeoutMs ?? 3_000,
      // a connection per request: a pooled one to a leader whose machine lost power would hang the
      // next request for minutes, where a new one fails within connectTimeout
      agent: options.clusterCa === undefined ? new http.Agent({ keepAlive: false }) : new https.Agent({ keepAlive: false, ca: options.clusterCa }),
    });
    // connections come through listenSecure's gate, which tells TLS from plain HTTP
    this.server = http.createServer((req, res) => {
      this.forward(req, res);
    });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.forwardUpgrade(req, socket, head);
    });
    this.proxy.on('proxyRes', (proxyRes, req) => {
      proxyRes.headers[LEADER_HEADER] = leaderOf(req);
    });
    this.proxy.on('proxyReqWs', (proxyReq, req, socket) => {
      // the proxy writes the 101 answer from these headers once the leader switched protocols
      proxyReq.prependListener('upgrade', (proxyRes: http.IncomingMessage) => {
        proxyRes.headers[LEADER_HEADER] = leaderOf(req);
        this.switched.add(socket);
      });
    });
    // errors come to each request's callback; this only keeps a stray one from ending the agent
    this.proxy.on('error', (error) => {
      options.logger.debug('forwarding failed', { error: error.message });
    });
  }

  /** Listens on the API port: TLS with `identity` (and plain HTTP to loopback), or plain HTTP to everyone without. */
  async listen(port: number, host: string, identity?: ServedIdentity): Promise<ListeningProxy> {
    this.gate = await listenSecure(this.server, { port, host, what: 'the API', identity });
    return { url: this.gate.url, close: () => this.close() };
  }

  private async close(): Promise<void> {
    // the gate frees the port at once; the connections it handed over end here
    await this.gate?.close();
    this.server.closeAllConnections();
    for (const socket of this.upgraded) socket.destroy();
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const target = this.target(req, (reason) => {
      this.refuse(req, reason, answer);
    });
    if (target === undefined) return;
    this.proxy.web(req, res, { target: target.apiUrl }, (error) => {
      this.refuse(req, reasonOf(error), answer);
    });
    function answer(status: number, headers: Record<string, string>, body: string): void {
      if (res.destroyed) return;
      // a leader that died half-way through its answer: the client sees the answer cut short
      if (res.headersSent) res.destroy();
      else res.writeHead(status, headers).end(body);
    }
  }

  private forwardUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    this.upgraded.add(socket);
    socket.once('close', () => this.upgraded.delete(socket));
    const answerRaw = (status: number, headers: Record<string, string>, body: string) => {
      if (socket.writable) socket.end(rawResponse(status, headers, body));
    };
    const target = this.target(req, (reason) => {
      this.refuse(req, reason, answerRaw);
    });
    if (target === undefined) return;
    this.proxy.ws(req, socket, head, { target: target.apiUrl }, (error) => {
      // after the switch to WebSocket the socket speaks frames: it just closes (the client reconnects)
      if (!this.switched.has(socket)) this.refuse(req, reasonOf(error), answerRaw);
    });
  }

  /**
   * The leader to forward `req` to, marked on the request for the answer's header and the hop
   * list; undefined (and `refuse` called) when there is none to try.
   */
  private target(req: http.IncomingMessage, refuse: (reason: NoLeaderReason) => void): KnownLeader | undefined {
    const { nodeId } = this.options;
    const path = forwardedBy(req);
    if (path.includes(nodeId)) {
      refuse({ kind: 'loop', path });
      return undefined;
    }
    const leader = this.options.leaders.leader;
    if (leader === undefined) {
      refuse({ kind: 'unknown' });
      return undefined;
    }
    req.headers[FORWARDED_BY_HEADER] = [...path, nodeId].join(',');
    (req as Marked).krakenLeader = leader;
    return leader;
  }

  private refuse(req: http.IncomingMessage, reason: NoLeaderReason, answer: (status: number, headers: Record<string, string>, body: string) => void): void {
    const { nodeId, leaders, logger } = this.options;
    const error = noLeaderError({ agentId: nodeId, leader: leaders.leader, silentForMs: leaders.silentForMs(), reason });
    logger.warn('could not forward an API request to the leader', { method: req.method, path: req.url, reason: reason.kind, leader: leaders.leader?.nodeId });
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    answer(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '2' }, noLeaderBody(path, error));
  }
}

type Marked = http.IncomingMessage & { krakenLeader?: KnownLeader };

function leaderOf(req: http.IncomingMessage): string {
  const leader = (req as Marked).krakenLeader;
  return leader === undefined ? '' : `${leader.nodeId} ${leader.apiUrl}`;
}

function forwardedBy(req: http.IncomingMessage): string[] {
  const header = req.headers[FORWARDED_BY_HEADER];
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').map((hop) => hop.trim()).filter((hop) => hop !== '');
}

function reasonOf(error: unknown): NoLeaderReason {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const text = typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  return typeof code === 'string' && NOT_REACHED.has(code) ? { kind: 'unreachable', error: text } : { kind: 'broken', error: text };
}

function rawResponse(status: number, headers: Record<string, string>, body: string): string {
  const lines = [`HTTP/1.1 ${String(status)} ${http.STATUS_CODES[status] ?? ''}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  lines.push(`content-length: ${String(Buffer.byteLength(body))}`, 'connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
