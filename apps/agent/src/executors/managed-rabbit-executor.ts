import type { Executor } from '../run/executor.js';
import type { ClusterStatus } from '@kraken/rabbitmq';
import type { ManagedRabbit } from '../run/managed-rabbit.js';

/** Owns the agent's own RabbitMQ node: set up first, so it stops last, after every client of it. */
export class ManagedRabbitExecutor implements Executor {
  readonly name = 'rabbitmq';

  constructor(private readonly node: ManagedRabbit) {}

  /** The node's RabbitMQ cluster as last read. */
  members(): ClusterStatus | undefined {
    return this.node.members();
  }

  setup(): Promise<void> {
    // started before the executors, by openBroker: the broker client needs it to connect at all
    return Promise.resolve();
  }

  /** Hands the node back (see ManagedRabbit.release): kept running for the agent's next start, or stopped. */
  stop(): Promise<void> {
    return this.node.release();
  }
}
