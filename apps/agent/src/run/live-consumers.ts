import type { Logger } from '@kraken/common';

/** Reads at most this often: each read starts an Erlang VM, and RabbitMQ refreshes the counts on its queues' tick (every few seconds) anyway. */
const MIN_READ_INTERVAL_MS = 5_000;

/**
 * The failure detector's second opinion on a silent node (see @kraken/orchestrator's
 * PresenceSources): RabbitMQ's own count of a queue's consumers that are up. One read answers
 * every queue, so questions about several nodes, or asked again within a few seconds, share it.
 */
export function liveConsumerCounter(
  read: () => Promise<Map<string, number>>,
  logger: Logger,
  now: () => number = () => performance.now(),
): (queue: string) => Promise<number | undefined> {
  let last: { at: number; counts: Promise<Map<string, number> | undefined> } | undefined;
  return async (queue) => {
    if (last === undefined || now() - last.at >= MIN_READ_INTERVAL_MS) {
      last = {
        at: now(),
        counts: read().catch((error: unknown) => {
          logger.debug('could not read the consumer counts from RabbitMQ', { error });
          return undefined;
        }),
      };
    }
    return (await last.counts)?.get(queue);
  };
}
