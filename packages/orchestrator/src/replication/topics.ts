/** The topic every committed change of the leader's store is published on. */
export const STATE_TOPIC = 'kraken.state.change';

/** The durable queue where standby `nodeId` receives them, kept while it is away. */
export function stateQueueOf(nodeId: string): string {
  return `kraken.state.${nodeId}`;
}
