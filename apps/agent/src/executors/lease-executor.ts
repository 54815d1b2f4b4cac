import type { Broker } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, withTimeout } from '@kraken/common';
import { LeaderLease } from '@kraken/orchestrator/follow';
import type { Executor } from '../run/executor.js';

/**
 * The lease timings of an agent-run cluster: a standby leads 2 s after the leader's consumer went
 * away; a leader that hears nothing for 1 s stops, before anyone else can start. A leader whose own
 * process stalled (adopting many apps on a small machine) waits up to 1.75 s for a fresh tick instead.
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

/** Another agent leads the cluster: this one must follow it. */
export class LeaseHeldElsewhere extends KrakenError {
  constructor(waitedMs: number) {
    super(ErrorCode.Conflict, `another agent holds the lease to lead this cluster (not this one after ${waitedMs} ms)`);
  }
}

/**
 * The founding leader's claim on the lease, set up before its orchestrator: that starts only once
 * this agent holds the lease, and acts only while it does.
 */
export class LeaseExecutor implements Executor {
  readonly name = 'lease';
  private lease: LeaderLease | undefined;
  private stopped = false;

  constructor(private readonly options: LeaseExecutorOptions) {}

  /** Whether this agent may act as the leader right now (checked before every command). */
  holds(): boolean {
    return this.lease?.holds() ?? false;
  }

  async setup(): Promise<void> {
    const { broker, nodeId, logger, onStepDown } = this.options;
    const lease = await LeaderLease.start({ broker, nodeId, logger, ...LEASE_TIMINGS });
    this.lease = lease;
    const leads = new Promise<true>((resolve) => {
      lease.once('leading', () => {
        resolve(true);
      });
    });
    const leading = await withTimeout(leads, FOUNDER_PATIENCE_MS, () => false);
    if (!leading) {
      await lease.stop();
      throw new LeaseHeldElsewhere(FOUNDER_PATIENCE_MS);
    }
    lease.on('following', (why) => {
      if (!this.stopped) onStepDown(why);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.lease?.stop();
  }
}
