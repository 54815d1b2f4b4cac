import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { BrokerUsers } from '@kraken/messages';
import { nodePermissions } from '@kraken/rabbitmq';
import { amqpUrl } from './amqp.js';

const execFileAsync = promisify(execFile);

/** A RabbitMQ virtual host of a test's own, and the URL into it. */
export interface IsolatedVhost {
  readonly url: string;
  readonly vhost: string;
  /**
   * A broker user for node `nodeId` with exactly the rights a joined node gets (its own queue, no
   * other node's), and the URL it connects with. Removed with the vhost.
   */
  /** A broker user for node `nodeId`, as the leader makes one; it may bind to `readTopics` only. */
  nodeUser(nodeId: string, readTopics?: readonly string[]): Promise<{ user: string; url: string }>;
  /** Gives another RabbitMQ user (e.g. one for agents in a netns lab, where guest cannot log in) full permissions here. */
  allow(user: string): Promise<void>;
  remove(): Promise<void>;
}

/**
 * Creates a vhost on the local RabbitMQ (with rabbitmqctl) that only this test uses: an agent there
 * has Kraken's default queue names to itself, so heartbeats or logs another suite left in the shared
 * vhost cannot reach it. The amqpUrl() user gets full permissions on it; remove() deletes it.
 */
export async function isolatedVhost(prefix: string, baseUrl: string = amqpUrl()): Promise<IsolatedVhost> {
  const vhost = `${prefix}-${String(process.pid)}-${Date.now().toString(36)}`;
  const rabbitmqctl = (...args: string[]) => execFileAsync('rabbitmqctl', ['-q', ...args], { timeout: 60_000 });
  await rabbitmqctl('add_vhost', vhost);
  const url = new URL(baseUrl);
  await rabbitmqctl('set_permissions', '-p', vhost, decodeURIComponent(url.username), '.*', '.*', '.*');
  url.pathname = `/${encodeURIComponent(vhost)}`;
  const users: string[] = [];
  return {
    url: url.href,
    vhost,
    nodeUser: async (nodeId, readTopics = []) => {
      const user = BrokerUsers.ofNode(nodeId);
      const password = randomBytes(12).toString('hex');
      const { configure, write, read, topics } = nodePermissions(nodeId, readTopics);
      await rabbitmqctl('add_user', user, password);
      users.push(user);
      await rabbitmqctl('set_permissions', '-p', vhost, user, configure, write, read);
      if (topics !== undefined) await rabbitmqctl('set_topic_permissions', '-p', vhost, user, topics.exchange, topics.write, topics.read);
      const nodeUrl = new URL(url.href);
      nodeUrl.username = encodeURIComponent(user);
      nodeUrl.password = password;
      return { user, url: nodeUrl.href };
    },
    allow: async (user) => {
      await rabbitmqctl('set_permissions', '-p', vhost, user, '.*', '.*', '.*');
    },
    remove: async () => {
      await rabbitmqctl('delete_vhost', vhost);
      for (const user of users) await rabbitmqctl('delete_user', user);
    },
  };
}
