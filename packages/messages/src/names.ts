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
  /** Lossy, bounded: `node.info`, `deploy.stats`, `deploy.log`. */
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
