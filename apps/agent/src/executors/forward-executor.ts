import type { Broker } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { toKrakenError } from '@kraken/common';
import { LeaderWatch } from '@kraken/orchestrator/follow';
import type { KnownLeader } from '@kraken/orchestrator/follow';
import type { ListeningProxy } from '../forward/leader-proxy.js';
import { LeaderProxy } from '../forward/leader-proxy.js';
import type { Executor } from '../run/executor.js';
import type { AgentTls } from '../run/agent-tls.js';
import { servedIdentity } from '../run/agent-tls.js';

export interface ForwardExecutorOptions {
  nodeId: string;
  /** This agent's connection: it hears the leader's beacons there. */
  broker: Broker;
  /** The leader this agent joined, until a beacon says otherwise. */
  joined: { nodeId: string; apiUrl: string };
  /** The API port and address, as the agent would serve them when leading. */
  apiPort: number;
  apiHost: string;
  /** The cluster CA and this agent's certificate from it (its join answer): TLS both ways. Undefined: plain HTTP. */
  tls?: AgentTls | undefined;
  /** Told each time another leader, or another view of the broker's nodes, becomes known. */
  onLeaderChanged?: (leader: KnownLeader) => void;
  logger: Logger;
}

/**
 * Every agent answers the API and the UI: one that does not lead serves the API port by forwarding
 * to the leader, wherever the leader's beacons say it is now. A port already taken (another agent
 * on the same machine) is not fatal: this agent then just does not answer there.
 */
export class ForwardExecutor implements Executor {
  readonly name = 'forward';
  private watch: LeaderWatch | undefined;
  private listening: ListeningProxy | undefined;
  private released: Promise<void> | undefined;

  constructor(private readonly options: ForwardExecutorOptions) {}

  /** The leader requests go to now. */
  get leader(): KnownLeader | undefined {
    return this.watch?.leader;
  }

  async setup(): Promise<void> {
    const { nodeId, broker, joined, apiPort, apiHost, logger } = this.options;
    const log = logger.child({ component: 'forward' });
    this.watch = await LeaderWatch.start({ broker, joined, logger: log });
    const { onLeaderChanged } = this.options;
    if (onLeaderChanged !== undefined) this.watch.on('changed', onLeaderChanged);
    try {
      const { tls } = this.options;
      this.listening = await new LeaderProxy({ nodeId, leaders: this.watch, logger: log, ...(tls === undefined ? {} : { clusterCa: tls.caCert }) }).listen(
        apiPort,
        apiHost,
        tls === undefined ? undefined : servedIdentity(tls),
      );
      log.info('answering the API and UI by forwarding to the leader', { url: this.listening.url, leader: joined.nodeId });
    } catch (error) {
      log.warn(`this agent does not answer the API on port ${String(apiPort)}: ${toKrakenError(error).message}; the leader answers at ${joined.apiUrl}`);
    }
  }

  /** Frees the API port (a standby taking over listens there next). Idempotent. */
  stop(): Promise<void> {
    this.released ??= (async () => {
      await this.listening?.close();
      await this.watch?.stop();
    })();
    return this.released;
  }
}
