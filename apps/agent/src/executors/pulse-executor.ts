import type { Logger } from '@kraken/common';
import { PulseSender } from '@kraken/orchestrator/follow';
import type { KnownLeader } from '@kraken/orchestrator/follow';
import type { Executor } from '../run/executor.js';

export interface PulseExecutorOptions {
  nodeId: string;
  /** This node's pulse key, from its join answer. */
  key: Buffer;
  /** The leader as this agent knows it now (its beacons say where it takes pulses). */
  leader: () => KnownLeader | undefined;
  logger: Logger;
}

/**
 * Pulses the leader (see @kraken/orchestrator's pulse.ts) while the agent runs, so a stalled or
 * broken broker link does not make this reachable machine look dead and its apps run twice.
 */
export class PulseExecutor implements Executor {
  readonly name = 'pulse';
  private sender: PulseSender | undefined;

  constructor(private readonly options: PulseExecutorOptions) {}

  setup(): Promise<void> {
    const { nodeId, key, leader, logger } = this.options;
    this.sender = PulseSender.start({
      nodeId,
      key,
      target: () => {
        const known = leader();
        // a leader that said no port takes no pulses (an older one, or its port was taken)
        return known?.pulsePort === undefined ? undefined : { host: new URL(known.apiUrl).hostname, port: known.pulsePort };
      },
      logger,
    });
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.sender?.stop();
    return Promise.resolve();
  }
}
