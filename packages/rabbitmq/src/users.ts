import { ErrorCode, KrakenError } from '@kraken/common';
import type { RabbitServer } from './server.js';

/** A user's rights on a vhost, as RabbitMQ's three permission regexes. */
export interface Permissions {
  configure: string;
  write: string;
  read: string;
  /**
   * Which routing keys it may publish with (`write`) and bind a queue to (`read`) on one topic
   * exchange: reading the exchange at all would otherwise let it bind to every topic on it.
   */
  topics?: { exchange: string; write: string; read: string };
}

/** The topic exchange every Kraken client binds its subscriptions to. */
const TOPIC_EXCHANGE = 'kraken.topics';

function escape(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * What a worker may do and no more: declare and consume its own command queue and private
 * (server-named) subscription queues, bind those to the topic exchange for `readTopics` only (the
 * leader's store changes go there too, with the cluster's tokens in them), and publish through the
 * default exchange. It cannot read another node's queue, nor declare or delete the cluster's queues
 * (it checks them passively). A status it sends as another node is caught by the consumer through
 * the validated user id, which RabbitMQ guarantees.
 */
export function nodePermissions(nodeId: string, readTopics: readonly string[] = []): Permissions {
  const own = `kraken\\.node\\.${escape(nodeId)}`;
  const privateQueues = 'amq\\.gen-.*';
  return {
    configure: `^(${own}|${privateQueues})$`,
    write: `^(amq\\.default|${own}|${privateQueues})$`,
    read: `^(${own}|${privateQueues}|${escape(TOPIC_EXCHANGE)})$`,
    topics: { exchange: TOPIC_EXCHANGE, write: '^$', read: readTopics.length === 0 ? '^$' : `^(${readTopics.map(escape).join('|')})$` },
  };
}

/**
 * Creates the user, or gives an existing one this password, then sets its permissions on `vhost`:
 * in one rabbitmqctl run (each starts an Erlang VM, about a second of CPU on a small machine).
 */
export async function ensureUser(server: Pick<RabbitServer, 'ctl'>, user: string, password: string, permissions: Permissions, vhost = '/'): Promise<void> {
  const [u, p, v, c, w, r] = [user, password, vhost, permissions.configure, permissions.write, permissions.read].map(erlangBinary);
  const acting = erlangBinary('kraken');
  const expression = [
    `ok = case rabbit_auth_backend_internal:lookup_user(${u}) of`,
    `  {ok, _} -> rabbit_auth_backend_internal:change_password(${u}, ${p}, ${acting});`,
    `  _ -> rabbit_auth_backend_internal:add_user(${u}, ${p}, ${acting})`,
    'end,',
    `ok = rabbit_auth_backend_internal:set_permissions(${u}, ${v}, ${c}, ${w}, ${r}, ${acting})`,
    ...(permissions.topics === undefined
      ? []
      : [`, ok = rabbit_auth_backend_internal:set_topic_permissions(${u}, ${v}, ${[permissions.topics.exchange, permissions.topics.write, permissions.topics.read].map(erlangBinary).join(', ')}, ${acting})`]),
    '.',
  ].join(' ');
  const answer = (await server.ctl(['eval', expression])).trim();
  if (answer !== 'ok') throw new KrakenError(ErrorCode.Internal, `could not set up broker user ${user}: RabbitMQ answered ${JSON.stringify(answer.slice(0, 200))}`);
}

/** A UTF-8 binary literal in Erlang source. */
function erlangBinary(text: string): string {
  return `<<"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"/utf8>>`;
}

export async function deleteUser(server: Pick<RabbitServer, 'ctl'>, user: string): Promise<void> {
  await server.ctl(['delete_user', user]);
}
