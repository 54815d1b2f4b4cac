import { ErrorCode, KrakenError } from '@kraken/common';

/** Where the orchestrator learns whether a silent node still consumes its command queue. */
export interface PresenceSources {
  /** The broker's count over AMQP (a passive queue.declare): drops at once when a connection closes. */
  consumerCount: (queue: string) => Promise<number>;
  /**
   * A second opinion, asked only when the first says the node still consumes: RabbitMQ keeps the
   * consumers of a cluster member it lost contact with as `suspected_down`, which AMQP's count still
   * includes. A machine that lost power together with the RabbitMQ member its agent connects
   * through would look connected until it comes back. Resolves to undefined when it cannot tell.
   */
  liveConsumerCount?: ((queue: string) => Promise<number | undefined>) | undefined;
}

export interface Presence {
  /** true: still consumes (slow, not gone); false: not connected; undefined: the broker could not say. */
  connected: boolean | undefined;
  /** Why, for the log. */
  why: string;
}

/** Asks the broker whether the consumer of `queue` (a node's command queue) is still there. */
export async function brokerPresence(queue: string, sources: PresenceSources): Promise<Presence> {
  let consumers: number;
  try {
    consumers = await sources.consumerCount(queue);
  } catch (error) {
    // a node queue that does not exist has no consumer; any other failure leaves it to the detector
    if (error instanceof KrakenError && error.code === ErrorCode.NotFound) return { connected: false, why: 'its queue does not exist' };
    return { connected: undefined, why: `the broker did not answer: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (consumers === 0) return { connected: false, why: 'nothing consumes its queue' };
  if (sources.liveConsumerCount === undefined) return { connected: true, why: 'its queue still has a consumer' };
  const live = await sources.liveConsumerCount(queue).catch(() => undefined);
  if (live === 0) return { connected: false, why: 'RabbitMQ lost contact with the member its connection goes through (its consumer is only suspected)' };
  return { connected: true, why: 'its queue still has a consumer' };
}
