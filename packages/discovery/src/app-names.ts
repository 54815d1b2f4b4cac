import type { EventEmitter } from 'node:events';
import type { Logger } from '@kraken/common';
import { openMdns } from './mdns.js';
import type { MdnsSession } from './mdns.js';

/** The mDNS port: a query from any other port is a legacy unicast one (RFC 6762, 6.7). */
const MDNS_PORT = 5353;

export interface AppNameResponderOptions {
  /** The local IPv4 address of the interface to answer on. */
  interfaceAddress: string;
  /** The address `<name>.local` resolves to: this agent's, whose ingress serves every app. */
  address: string;
  /** Whether an app of the cluster has this name (the ingress's route table). */
  has: (name: string) => boolean;
  /** How long a resolver may keep an answer, in seconds: the address is the agent's, not the app's, so it outlives moves. @default 120 */
  ttlSeconds?: number;
  logger: Logger;
}

interface Question {
  name: string;
  type: string;
}

interface Query {
  id?: number;
  questions?: Question[];
}

interface RemoteInfo {
  address: string;
  port: number;
}

interface Responder extends EventEmitter {
  respond(response: { id?: number; questions?: Question[]; answers: { name: string; type: 'A'; ttl: number; data: string }[] }, rinfo?: RemoteInfo): void;
}

/**
 * The app name of a two-label `.local` name (`hello.local` -> `hello`), the form Debian's nss-mdns
 * and macOS resolve without configuration; undefined for any other name.
 */
export function appNameOf(dnsName: string): string | undefined {
  const match = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.local\.?$/i.exec(dnsName);
  return match?.[1]?.toLowerCase();
}

/**
 * Answers multicast DNS queries for `<app name>.local` with this agent's address, for every app
 * of the cluster: whichever agent a resolver hears first, its ingress routes the request to
 * wherever the app runs. Every agent answers, so the name resolves while any agent lives.
 */
export class AppNameResponder {
  private constructor(
    private readonly session: MdnsSession,
    private readonly mdns: Responder,
    private readonly onQuery: (query: Query, rinfo: RemoteInfo) => void,
  ) {}

  static async start(options: AppNameResponderOptions): Promise<AppNameResponder> {
    const { address, has, logger } = options;
    const ttl = options.ttlSeconds ?? 120;
    const session = openMdns(options.interfaceAddress, logger);
    await session.ready;
    // bonjour-service keeps its multicast-dns instance private; its queries reach every listener
    const mdns = (session.bonjour as unknown as { server: { mdns: Responder } }).server.mdns;
    const onQuery = (query: Query, rinfo: RemoteInfo) => {
      for (const question of query.questions ?? []) {
        if (question.type !== 'A' && question.type !== 'ANY') continue;
        const name = appNameOf(question.name);
        if (name === undefined || !has(name)) continue;
        const answers = [{ name: question.name, type: 'A' as const, ttl, data: address }];
        if (rinfo.port === MDNS_PORT) mdns.respond({ answers });
        // a legacy resolver (dig, a plain DNS client) hears only a unicast answer carrying its id and question
        else mdns.respond({ ...(query.id === undefined ? {} : { id: query.id }), questions: [question], answers }, rinfo);
        logger.debug('mdns: answered for an app name', { name: question.name, address, to: rinfo.address });
      }
    };
    mdns.on('query', onQuery);
    return new AppNameResponder(session, mdns, onQuery);
  }

  async close(): Promise<void> {
    this.mdns.off('query', this.onQuery);
    await this.session.close();
  }
}
