import { withTimeout } from '@kraken/common';
import type { Broker } from '../src/index.js';

/** What close() may add to closeTimeoutMs (saying goodbye), plus room for a loaded machine. */
const GOODBYE_AND_SLACK_MS = 3_000;

/**
 * close() must return within its bound whatever state RabbitMQ is in. Not a speed check: the
 * bound is the documented promise (closeTimeoutMs plus the goodbye), with slack for a busy machine.
 */
export async function expectClosedWithin(broker: Broker, closeTimeoutMs: number): Promise<void> {
  const bound = closeTimeoutMs + GOODBYE_AND_SLACK_MS;
  const outcome = await withTimeout(broker.close().then(() => 'closed' as const), bound, () => 'still closing' as const);
  expect(outcome).toBe('closed');
}
