import type { Broker } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { noopLogger, optionChecks, toKrakenError } from '@kraken/common';
import { MessageType, createMessage } from '@kraken/messages';

/**
 * The topic `leader.info` goes out on. Every agent may subscribe (its private queue reads the
 * topic exchange); only the cluster's admin user may publish there, so a worker's credential
 * cannot pass itself off as the leader.
 */
export const LEADER_TOPIC = 'kraken.leader';

export interface LeaderBeaconOptions {
  broker: Broker;
  nodeId: string;
  /** This leader's API as other machines reach it. */
  apiUrl: string;
  /** This leader's term: a former leader's late beacon carries an older one. */
  epoch: number;
  /** The running nodes of the broker (`host:port`), read at each beacon; undefined when not known. */
  brokerEndpoints?: () => readonly string[] | undefined;
  /** Whether anyone looks at the cluster through the API, read at each beacon (workers pace their stats by it). @default not said */
  watched?: () => boolean;
  /** Whether this leader still holds the lease: a former leader that woke from a freeze says nothing. @default always */
  mayAct?: () => boolean;
  /** The UDP port where this leader takes pulses; undefined: it takes none. */
  pulsePort?: number | undefined;
  /** How often it says so. @default 1_000 */
  intervalMs?: number;
  logger?: Logger;
}

/**
 * Tells every agent where the acting orchestrator's API answers, at once and then every
 * `intervalMs`: an agent that starts later, or whose broker connection came back, learns it
 * within one interval (subscriptions keep nothing sent before them).
 */
export class LeaderBeacon {
  private readonly timer: NodeJS.Timeout;
  private readonly logger: Logger;

  private constructor(private readonly options: LeaderBeaconOptions) {
    const intervalMs = optionChecks('LeaderBeacon').positiveDuration('intervalMs', options.intervalMs ?? 1_000);
    this.logger = (options.logger ?? noopLogger).child({ component: 'leader-beacon' });
    // the first one goes out before the timer starts: an unusable apiUrl throws here, leaking nothing
    this.send();
    this.timer = setInterval(() => {
      this.send();
    }, intervalMs);
    this.timer.unref();
  }

  static start(options: LeaderBeaconOptions): LeaderBeacon {
    return new LeaderBeacon(options);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private send(): void {
    const { broker, nodeId, apiUrl, epoch, pulsePort } = this.options;
    if (this.options.mayAct?.() === false) return;
    const brokerEndpoints = this.options.brokerEndpoints?.();
    const watched = this.options.watched?.();
    const body = {
      nodeId,
      apiUrl,
      ...(brokerEndpoints === undefined ? {} : { brokerEndpoints: [...brokerEndpoints] }),
      ...(watched === undefined ? {} : { watched }),
      ...(pulsePort === undefined ? {} : { pulsePort }),
    };
    const message = createMessage(MessageType.LeaderInfo, body, { from: nodeId, epoch });
    broker.publishTopic(LEADER_TOPIC, message).catch((error: unknown) => {
      // the next one goes out within an interval; followers keep forwarding to what they know
      this.logger.debug('a leader.info was not sent', { error: toKrakenError(error).message });
    });
  }
}
