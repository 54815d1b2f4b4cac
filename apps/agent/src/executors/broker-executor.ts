import type { Broker } from '@kraken/broker';
import type { Executor } from '../run/executor.js';

/** Owns the broker connection so it closes last, after everything that publishes. */
export class BrokerExecutor implements Executor {
  readonly name = 'broker';

  constructor(readonly broker: Broker) {}

  setup(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return this.broker.close();
  }
}
