import type { Logger } from '@kraken/common';
import type { Announcement } from '@kraken/discovery';
import { DiscoveryRole, announce } from '@kraken/discovery';
import type { Executor } from '../run/executor.js';

export interface AnnounceExecutorOptions {
  nodeId: string;
  interfaceAddress: string;
  apiPort: () => number;
  clusterId: () => string | undefined;
  priority: number;
  logger: Logger;
}

/** Tells the LAN (mDNS `_kraken._tcp`) that this agent leads, so new agents join it without addresses. */
export class AnnounceExecutor implements Executor {
  readonly name = 'announce';
  private announcement: Announcement | undefined;

  constructor(private readonly options: AnnounceExecutorOptions) {}

  /** Idempotent: the agent may announce early, before the executors are set up in order. */
  async setup(): Promise<void> {
    if (this.announcement !== undefined) return;
    const { nodeId, interfaceAddress, priority, logger } = this.options;
    const clusterId = this.options.clusterId();
    if (clusterId === undefined) throw new Error('announce: the orchestrator has no cluster id yet');
    this.announcement = await announce({
      // a '.' would split the DNS name
      name: nodeId.replace(/\./g, '-'),
      port: this.options.apiPort(),
      txt: { clusterId, role: DiscoveryRole.Orchestrator, priority, apiPort: this.options.apiPort() },
      interfaceAddress,
      // node ids are unique, so the 0.75 s name probe only delays joiners
      probe: false,
      logger,
    });
    logger.info('announced on mDNS', { interfaceAddress, service: `${nodeId}._kraken._tcp.local` });
  }

  async stop(): Promise<void> {
    await this.announcement?.stop();
  }
}
