import { AmqpBroker } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import type { JoinAnswer } from '@kraken/messages';
import type { ManagedRabbitOptions } from './managed-rabbit.js';
import { ManagedRabbit } from './managed-rabbit.js';

export interface JoinedBroker {
  broker: AmqpBroker;
  /** This agent's own member of the cluster's RabbitMQ cluster, when the leader granted one. */
  managed?: ManagedRabbit;
  /** With a member: a connection as the cluster's admin, for what a standby does beyond a worker. */
  standbyBroker?: AmqpBroker;
}

/**
 * The broker of an agent that joined. Granted a RabbitMQ node of its own (it may lead one day), it
 * starts it, joins the cluster's RabbitMQ cluster and talks to it over loopback; otherwise it talks
 * to the leader's node. Either way every other node of the broker is a fallback, with the same user.
 */
export async function openJoinedBroker(grant: JoinAnswer, node: Omit<ManagedRabbitOptions, 'logger'>, logger: Logger): Promise<JoinedBroker> {
  const fallbackUrls = (grant.brokerEndpoints ?? []).map((endpoint) => withEndpoint(grant.brokerUrl, endpoint)).filter((url) => url !== grant.brokerUrl);
  if (grant.brokerCluster === undefined) {
    return { broker: await AmqpBroker.create({ url: grant.brokerUrl, fallbackUrls, logger }) };
  }
  const managed = await ManagedRabbit.startMember({ ...node, logger }, grant.brokerCluster);
  const opened: AmqpBroker[] = [];
  try {
    const local = withEndpoint(grant.brokerUrl, `127.0.0.1:${managed.port}`);
    const broker = await AmqpBroker.create({ url: local, fallbackUrls: [grant.brokerUrl, ...fallbackUrls], logger });
    opened.push(broker);
    const admin = managed.adminUrl;
    const standbyBroker = await AmqpBroker.create({
      url: admin,
      fallbackUrls: [grant.brokerUrl, ...fallbackUrls].map((url) => withCredentials(url, admin)),
      quorumTelemetry: true,
      logger,
    });
    return { broker, managed, standbyBroker };
  } catch (error) {
    for (const broker of opened) await broker.close();
    await managed.release();
    throw error;
  }
}

/**
 * Keeps a joined agent's fallbacks on the broker's running nodes as the leader's beacon lists them:
 * an agent that joined before the standbys' nodes did knew only the leader's, and would be cut off
 * from the cluster when that machine died.
 */
export function followBrokerEndpoints(joined: JoinedBroker, grantedUrl: string, endpoints: readonly string[]): void {
  const fallbacks = endpoints.map((endpoint) => withEndpoint(grantedUrl, endpoint));
  joined.broker.setFallbackUrls(fallbacks);
  const { standbyBroker, managed } = joined;
  if (standbyBroker !== undefined && managed !== undefined) standbyBroker.setFallbackUrls(fallbacks.map((url) => withCredentials(url, managed.adminUrl)));
}

/** `url` with the user and password of `from`. */
function withCredentials(url: string, from: string): string {
  const parsed = new URL(url);
  const source = new URL(from);
  parsed.username = source.username;
  parsed.password = source.password;
  return parsed.href;
}

/** `url` with its host and port replaced by `endpoint` (`host:port`), credentials and vhost kept. */
function withEndpoint(url: string, endpoint: string): string {
  const parsed = new URL(url);
  parsed.host = endpoint;
  return parsed.href;
}
