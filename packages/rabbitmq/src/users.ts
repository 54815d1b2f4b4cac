import type { RabbitServer } from './server.js';

/** A user's rights on a vhost, as RabbitMQ's three permission regexes. */
export interface Permissions {
  configure: string;
  write: string;
  read: string;
}

function escape(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * What a worker may do and no more: declare and consume its own command queue and private
 * (server-named) subscription queues, read the topic exchange, and publish through the default
 * exchange. It cannot read another node's queue, nor declare or delete the cluster's queues (it
 * checks them passively). A status it sends as another node is caught by the consumer through the
 * validated user id, which RabbitMQ guarantees.
 */
export function nodePermissions(nodeId: string): Permissions {
  const own = `kraken\\.node\\.${escape(nodeId)}`;
  const privateQueues = 'amq\\.gen-.*';
  return {
    configure: `^(${own}|${privateQueues})$`,
    write: `^(amq\\.default|${own}|${privateQueues})$`,
    read: `^(${own}|${privateQueues}|kraken\\.topics)$`,
  };
}

/** Creates the user, or gives an existing one this password, then sets its permissions on `vhost`. */
export async function ensureUser(server: Pick<RabbitServer, 'ctl'>, user: string, password: string, permissions: Permissions, vhost = '/'): Promise<void> {
  const users = await server.ctl(['list_users', '--no-table-headers', '--silent']);
  const exists = users.split('\n').some((line) => line.split('\t')[0] === user);
  if (exists) await server.ctl(['change_password', user, password]);
  else await server.ctl(['add_user', user, password]);
  await server.ctl(['set_permissions', '-p', vhost, user, permissions.configure, permissions.write, permissions.read]);
}

export async function deleteUser(server: Pick<RabbitServer, 'ctl'>, user: string): Promise<void> {
  await server.ctl(['delete_user', user]);
}
