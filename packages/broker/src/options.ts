import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, noopLogger } from '@kraken/common';
import { DEFAULT_MAX_MESSAGE_BYTES } from '@kraken/messages';

/** Options both broker implementations share. */
export interface BrokerOptions {
  /** @default noopLogger */
  logger?: Logger;
  /** Largest encoded message accepted on publish and on consume. @default 1 MiB */
  maxMessageBytes?: number;
  /** Handler failures of one message before it is dead-lettered. @default 5 */
  maxDeliveries?: number;
  /** Default unacknowledged messages per consumer. @default 32 */
  prefetch?: number;
  /** Message ids remembered per consumer to skip redelivered duplicates. @default 10_000 */
  dedupeWindow?: number;
  /** Default bound of telemetry queues. @default 100_000 */
  telemetryMaxLength?: number;
}

export interface CompiledBrokerOptions {
  logger: Logger;
  maxMessageBytes: number;
  maxDeliveries: number;
  prefetch: number;
  dedupeWindow: number;
  telemetryMaxLength: number;
}

export function compileBrokerOptions(options: BrokerOptions): CompiledBrokerOptions {
  const compiled: CompiledBrokerOptions = {
    logger: options.logger ?? noopLogger,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    maxDeliveries: options.maxDeliveries ?? 5,
    prefetch: options.prefetch ?? 32,
    dedupeWindow: options.dedupeWindow ?? 10_000,
    telemetryMaxLength: options.telemetryMaxLength ?? 100_000,
  };
  for (const key of ['maxMessageBytes', 'maxDeliveries', 'prefetch', 'dedupeWindow', 'telemetryMaxLength'] as const) {
    const value = compiled[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new KrakenError(ErrorCode.InvalidConfig, `broker option ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  return compiled;
}
