import type { ManagedRabbit } from './managed-rabbit.js';

/**
 * Keeps this machine's RabbitMQ node running from one start of the agent to the next in the same
 * process (after it lost the lease, or a start failed). Stopping it would take a member out of the
 * RabbitMQ cluster whose majority the agent holding the lease needs. The 30-minute chaos run found
 * two agents that each waited for a lease the third held, gave up and stopped their nodes: the
 * holder's node paused on the minority side, it lost the lease in turn, and so on for good.
 */
export class BrokerNodeKeeper {
  private kept: { node: ManagedRabbit; key: string } | undefined;
  private exiting = false;

  /**
   * The node a previous start left running under `key` (its name, port and cookie), for this start
   * to use; undefined when there is none. One kept under another key (a different cluster's cookie)
   * is stopped first.
   */
  async take(key: string): Promise<ManagedRabbit | undefined> {
    const kept = this.kept;
    this.kept = undefined;
    if (kept === undefined || kept.key === key) return kept?.node;
    await kept.node.stop();
    return undefined;
  }

  /** Where a start's node goes when that start ends: kept for the next start, or stopped once the agent exits. */
  async release(node: ManagedRabbit, key: string): Promise<void> {
    if (this.exiting) {
      await node.stop();
      return;
    }
    if (this.kept !== undefined && this.kept.node !== node) await this.kept.node.stop();
    this.kept = { node, key };
  }

  /** The agent exits: the node kept stops, and so does any released from now on. */
  async stopAll(): Promise<void> {
    this.exiting = true;
    const kept = this.kept;
    this.kept = undefined;
    await kept?.node.stop();
  }
}
