import { ErrorCode, KrakenError } from '@kraken/common';
import { ID_PATTERN } from './fields.js';
import { sample } from './issues.js';

/**
 * Queue names every Kraken node agrees on. Exchanges and bindings are the broker's business;
 * these are fixed so that a worker and an orchestrator of the same protocol always meet.
 */
export const Queues = {
  /** Durable: `deploy.status` from workers. */
  Orchestrator: 'kraken.orchestrator',
  /** Bounded: `node.info`, `deploy.stats` (lossy), `deploy.log` (durable). */
  OrchestratorTelemetry: 'kraken.orchestrator.telemetry',
  /** Messages that failed to decode or to be handled, with the reason. */
  DeadLetter: 'kraken.dead-letter',
  /** Durable: commands for one worker. Throws KrakenError(InvalidInput) for an unusable node id. */
  node: (nodeId: string): `kraken.node.${string}` => {
    // Checked here because a '#' or '*' would turn a queue name into a routing wildcard.
    if (typeof nodeId !== 'string' || !ID_PATTERN.test(nodeId)) {
      throw new KrakenError(ErrorCode.InvalidInput, `nodeId: expected 1-64 characters from [A-Za-z0-9._-], got ${sample(nodeId)}`, {
        details: { field: 'nodeId' },
      });
    }
    return `kraken.node.${nodeId}`;
  },
} as const;

/**
 * Broker user names of the nodes that joined a cluster with a credential of their own. RabbitMQ
 * validates the `user_id` each message carries against the connection's user, so a consumer can
 * tell which node really sent a message, whatever its `from` says.
 */
export const BrokerUsers = {
  ofNode: (nodeId: string): string => `kraken-node-${Queues.node(nodeId).slice('kraken.node.'.length)}`,
  /** The node a user name stands for, or undefined for any other user (an operator's, the leader's). */
  nodeOf: (user: string): string | undefined => (user.startsWith('kraken-node-') ? user.slice('kraken-node-'.length) : undefined),
} as const;
