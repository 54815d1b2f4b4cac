import type { Broker } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { noopLogger, optionChecks, toKrakenError } from '@kraken/common';
import type { IngressRoute } from '@kraken/messages';
import { DeploymentStatus, MessageType, ROUTES_MAX, createMessage } from '@kraken/messages';
import type { DeploymentRecord } from '../store/records.js';

/**
 * The topic `ingress.routes` goes out on. Every agent's ingress subscribes; like `kraken.leader`,
 * only the cluster's admin user may publish there.
 */
export const ROUTES_TOPIC = 'kraken.routes';

/**
 * The ingress route table of these deployments: every named one not destroyed, with an upstream
 * while it runs (the address its node reported with the Running status) and answers: one its
 * node reports unready (a hung app) gets none, so every ingress answers 503 for it at once
 * instead of holding requests until they time out.
 */
export function routesOf(deployments: readonly DeploymentRecord[]): IngressRoute[] {
  const routes: IngressRoute[] = [];
  for (const deployment of deployments) {
    if (deployment.name === null || deployment.status === DeploymentStatus.Destroyed) continue;
    const running = deployment.status === DeploymentStatus.Running && deployment.url !== null;
    const notAnswering = running && deployment.readiness?.ready === false;
    routes.push({
      name: deployment.name,
      deploymentId: deployment.id,
      status: deployment.status,
      ...(running && !notAnswering && deployment.url !== null ? { upstream: deployment.url } : {}),
      ...(notAnswering ? { notAnswering: deployment.readiness?.reason ?? 'its node gets no answer from it' } : {}),
    });
    if (routes.length === ROUTES_MAX) break;
  }
  return routes;
}

export interface RoutePublisherOptions {
  broker: Broker;
  nodeId: string;
  /** This leader's term: an ingress ignores the tables of a former leader. */
  epoch: number;
  /** The deployments now, read at each table. */
  deployments: () => readonly DeploymentRecord[];
  /** How often the table goes out unchanged, for agents that started or reconnected since. @default 2_000 */
  intervalMs?: number;
  /** Whether this leader still holds the lease: a former leader that woke from a freeze says nothing. @default always */
  mayAct?: () => boolean;
  logger?: Logger;
}

/**
 * Tells every agent's ingress where each deployment runs: the whole table, as soon as it changes
 * (`changed()`, coalesced within one turn of the event loop) and every `intervalMs` (subscriptions
 * keep nothing sent before them). `seq` goes up only when the table changes.
 */
export class RoutePublisher {
  private readonly timer: NodeJS.Timeout;
  private readonly logger: Logger;
  private seq = 0;
  private lastSent: string | undefined;
  private pending: NodeJS.Immediate | undefined;
  private stopped = false;

  private constructor(private readonly options: RoutePublisherOptions) {
    const intervalMs = optionChecks('RoutePublisher').positiveDuration('intervalMs', options.intervalMs ?? 2_000);
    this.logger = (options.logger ?? noopLogger).child({ component: 'route-publisher' });
    this.publish();
    this.timer = setInterval(() => {
      this.publish();
    }, intervalMs);
    this.timer.unref();
  }

  static start(options: RoutePublisherOptions): RoutePublisher {
    return new RoutePublisher(options);
  }

  /** A deployment changed: the table goes out at once if that changed it. */
  changed(): void {
    if (this.pending !== undefined || this.stopped) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      this.publish({ onlyIfChanged: true });
    });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.pending !== undefined) clearImmediate(this.pending);
  }

  private publish({ onlyIfChanged = false } = {}): void {
    const { broker, nodeId, epoch } = this.options;
    if (this.stopped || this.options.mayAct?.() === false) return;
    const routes = routesOf(this.options.deployments());
    const table = JSON.stringify(routes);
    if (table !== this.lastSent) {
      if (this.lastSent !== undefined) this.seq += 1;
      this.lastSent = table;
    } else if (onlyIfChanged) {
      return;
    }
    const message = createMessage(MessageType.IngressRoutes, { seq: this.seq, routes }, { from: nodeId, epoch });
    broker.publishTopic(ROUTES_TOPIC, message).catch((error: unknown) => {
      // the next table goes out within an interval; ingresses keep serving the one they have
      this.logger.debug('an ingress.routes was not sent', { error: toKrakenError(error).message });
    });
  }
}
