import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { amqpUrl } from './amqp.js';

const execFileAsync = promisify(execFile);

/** A RabbitMQ virtual host of a test's own, and the URL into it. */
export interface IsolatedVhost {
  readonly url: string;
  readonly vhost: string;
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
  return {
    url: url.href,
    vhost,
    remove: async () => {
      await rabbitmqctl('delete_vhost', vhost);
    },
  };
}
