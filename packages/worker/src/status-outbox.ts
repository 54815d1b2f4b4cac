import type { Broker } from '@kraken/broker';
import type { Clock, Logger } from '@kraken/common';
import { redactCredentials } from '@kraken/common';
import type { AppReadiness, AppRestarts, BodyInputOf, DeployStatusBody } from '@kraken/messages';
import { DeploymentStatus, MessageType, createMessage } from '@kraken/messages';
import type { WorkerQueues } from './options.js';
import type { Tracked } from './tracked.js';
import type { WorkerReport } from './worker-events.js';

export interface StatusOutboxOptions {
  broker: Broker;
  queues: Pick<WorkerQueues, 'orchestrator' | 'telemetry'>;
  nodeId: string;
  clock: Clock;
  logger: Logger;
  report: Pick<WorkerReport, 'emit' | 'fail'>;
  /** The highest epoch among the commands taken, which every message carries. */
  epoch: () => number;
  /** What a Running status says of the app's restarts and of its answers, unless told otherwise. */
  restartsOf: (deploymentId: string) => AppRestarts | undefined;
  readinessOf: (deploymentId: string) => AppReadiness | undefined;
}

export interface StatusExtra {
  message?: string | undefined;
  /** Sends the status even when it is the one last reported. */
  force?: boolean;
  errorCode?: string;
  port?: number;
  restarts?: AppRestarts;
  readiness?: AppReadiness;
}

/** The messages that go to the telemetry queue. */
type TelemetryType = typeof MessageType.NodeInfo | typeof MessageType.DeployLog | typeof MessageType.DeployStats;

/**
 * Everything the worker sends leaves through here, signed with this node and the epoch it has
 * seen: deploy.status to the orchestrator's queue in the order the changes happened, and
 * node.info, deploy.log and deploy.stats to the telemetry queue.
 */
export class StatusOutbox {
  private lastStatusAt = 0;
  /** Statuses go out one at a time, so the orchestrator receives them in the order they happened. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: StatusOutboxOptions) {}

  /** Reports a tracked deployment's status, with where it runs when it runs; a repeat only when forced. */
  publish(t: Tracked, status: DeploymentStatus, extra: StatusExtra): void {
    if (status === t.status && extra.force !== true) return;
    t.status = status;
    const running = status === DeploymentStatus.Running;
    const restarts = extra.restarts ?? (running ? this.options.restartsOf(t.deploymentId) : undefined);
    const readiness = extra.readiness ?? (running ? this.options.readinessOf(t.deploymentId) : undefined);
    this.send({
      deploymentId: t.deploymentId,
      status,
      ...(extra.message === undefined ? {} : { message: extra.message }),
      ...(extra.errorCode === undefined ? {} : { errorCode: extra.errorCode }),
      ...(extra.port === undefined ? {} : { port: extra.port }),
      ...(t.attempt === undefined ? {} : { attempt: t.attempt }),
      ...(running && t.commit !== undefined ? { commit: t.commit } : {}),
      ...(running && t.port !== undefined ? { port: t.port } : {}),
      ...(running && t.url !== undefined ? { url: t.url } : {}),
      ...(restarts === undefined ? {} : { restarts }),
      ...(readiness === undefined ? {} : { readiness }),
    });
  }

  publishUntracked(deploymentId: string, status: DeploymentStatus, message: string): void {
    this.send({ deploymentId, status, message });
  }

  send(fields: Omit<DeployStatusBody, 'at' | 'nodeId'>): void {
    // strictly increasing, so two changes in one millisecond still sort in the order they happened
    const atMs = Math.max(this.options.clock.now(), this.lastStatusAt + 1);
    this.lastStatusAt = atMs;
    // a failed clone quotes the git URL, credentials and all: they go no further than this node
    const shown = fields.message === undefined ? undefined : redactCredentials(fields.message).slice(0, 8_000);
    const body: DeployStatusBody = { ...fields, message: shown, at: new Date(atMs).toISOString(), nodeId: this.options.nodeId };
    if (body.message === undefined) delete body.message;
    this.options.report.emit('status', body);
    this.options.logger.info('deployment status', { deploymentId: body.deploymentId, status: body.status, message: body.message });
    const message = createMessage(MessageType.DeployStatus, body, { ...this.meta(), at: body.at });
    this.chain = this.chain
      .then(() => this.options.broker.publish(this.options.queues.orchestrator, message))
      .catch((error: unknown) => {
        this.options.report.fail(error, 'publish deploy.status', body.deploymentId);
      });
  }

  /** Resolves once the broker took the message (a durable one: once RabbitMQ confirmed it). */
  async telemetry<T extends TelemetryType>(type: T, body: BodyInputOf<T>): Promise<void> {
    await this.options.broker.publish(this.options.queues.telemetry, createMessage(type, body, this.meta()));
  }

  /** Resolves once the statuses sent so far are published (or reported failed). */
  flushed(): Promise<void> {
    return this.chain;
  }

  private meta(): { from: string; epoch: number } {
    return { from: this.options.nodeId, epoch: this.options.epoch() };
  }
}
