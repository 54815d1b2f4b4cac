import type { BrokerStats } from './broker.js';

/** The counts behind stats(); connection health (connected, reconnects, outage) is reported by the connection, not counted here. */
export type BrokerCounters = Omit<BrokerStats, 'connected' | 'reconnects' | 'reconnectAttempts' | 'disconnectedSince' | 'disconnectedMs' | 'lastError'>;

export function zeroCounters(): BrokerCounters {
  return { published: 0, dropped: 0, decodeFailures: 0, deadLettered: 0, duplicatesSkipped: 0, handlerFailures: 0 };
}
