import type { Broker } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { LeaderLease } from '@kraken/orchestrator';
import type { Executor } from '../run/executor.js';

/**
 * The lease timings of an agent-run cluster: a standby leads 2 s after the leader's consumer went
 * away; a leader that hears nothing for 1 s stops, before anyone else can start.
 */
export const LEASE_TIMINGS = { tickIntervalMs: 250, silenceMs: 1_000, leaseMs: 2_000 } as const;

/** How long the founder waits for the lease at start before it concludes that another agent holds it. */
const FOUNDER_PATIENCE_MS = 15_000;

export interface LeaseExecutorOptions {
  nodeId: string;
  /** The cluster's admin connection (it declares the leadership queue). */
  broker: Broker;
  /** This agent lost the lease (or never got it): it must start again and follow the leader. */
  onStepDown: (why: string) => void;
  logger: Logger;
}

/** The founding leader's claim on the lease: it keeps leading only while it holds it. */
export class LeaseExecutor implements Executor {
  readonly name = 'lease';
  private lease: LeaderLease | undefined;
  private patience: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: LeaseExecutorOptions) {}

  async setup(): Promise<void> {
    const { broker, nodeId, logger, onStepDown } = this.options;
    const lease = await LeaderLease.start({ broker, nodeId, logger, ...LEASE_TIMINGS });
    this.lease = lease;
    lease.on('following', (why) => {
      if (!this.stopped) onStepDown(why);
    });
    this.patience = setTimeout(() => {
      if (!lease.leading && !this.stopped) onStepDown(`another agent holds the lease (not this one after ${FOUNDER_PATIENCE_MS} ms)`);
    }, FOUNDER_PATIENCE_MS);
    this.patience.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.patience);
    await this.lease?.stop();
  }
}
