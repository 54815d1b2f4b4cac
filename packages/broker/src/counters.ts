import type { BrokerStats } from './broker.js';

/** The counts behind stats(); `connected` is computed, not counted. */
export type BrokerCounters = Omit<BrokerStats, 'connected'>;

export function zeroCounters(): BrokerCounters {
  return { published: 0, dropped: 0, decodeFailures: 0, deadLettered: 0, duplicatesSkipped: 0, handlerFailures: 0, reconnects: 0 };
}
