import type { Executor } from '../run/executor.js';
import type { ManagedRabbit } from '../run/managed-rabbit.js';

/** Owns the agent's own RabbitMQ node: set up first, so it stops last, after every client of it. */
export class ManagedRabbitExecutor implements Executor {
  readonly name = 'rabbitmq';

  constructor(private readonly node: ManagedRabbit) {}

  setup(): Promise<void> {
    // started before the executors, by openBroker: the broker client needs it to connect at all
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return this.node.stop();
  }
}
