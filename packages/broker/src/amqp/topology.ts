import type { Options } from 'amqplib';
import { DeliveryClass } from '@kraken/messages';
import type { QueueOptions } from '../broker.js';

/** Topic exchange behind publishTopic/subscribe. */
export const TOPIC_EXCHANGE = 'kraken.topics';

/** Headers a dead letter carries so an operator can tell why it is there. */
export const DeadLetterHeaders = {
  Reason: 'x-kraken-reason',
  SourceQueue: 'x-kraken-source-queue',
  At: 'x-kraken-dead-lettered-at',
} as const;

/**
 * Durable queues are quorum queues: replicated when the cluster grows, persisted, and they count
 * deliveries (x-delivery-count) across consumer crashes, which bounds redelivery of a message
 * that keeps failing. Telemetry queues are bounded classic queues that refuse (not silently
 * drop) when full, so the publisher can count what was lost.
 */
export function queueArguments(options: QueueOptions, telemetryMaxLength: number, quorumTelemetry = false): Options.AssertQueue {
  if ((options.class ?? DeliveryClass.Durable) === DeliveryClass.Durable) {
    return { durable: true, arguments: { 'x-queue-type': 'quorum', ...(options.singleActiveConsumer === true ? { 'x-single-active-consumer': true } : {}) } };
  }
  return {
    durable: true,
    arguments: {
      ...(quorumTelemetry ? { 'x-queue-type': 'quorum' } : {}),
      'x-max-length': options.maxLength ?? telemetryMaxLength,
      'x-overflow': 'reject-publish',
    },
  };
}

export function subscriptionQueueArguments(telemetryMaxLength: number): Options.AssertQueue {
  return {
    exclusive: true,
    autoDelete: true,
    durable: false,
    arguments: { 'x-max-length': telemetryMaxLength, 'x-overflow': 'reject-publish' },
  };
}

/** amqp://user:secret@host -> amqp://user:***@host, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
