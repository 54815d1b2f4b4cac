import type { Broker, Subscription } from '@kraken/broker';
import type { AppReadiness, AppRestarts, DeploymentStatus, Message, MessageOf } from '@kraken/messages';
import { DeliveryClass, DeploymentStatus as Status, MessageType, createMessage } from '@kraken/messages';
import type { OrchestratorQueues } from '../src/options.js';
import type { NodeShape } from './fixtures.js';
import { nodeInfo } from './fixtures.js';

export interface FakeWorkerOptions {
  broker: Broker;
  nodeId: string;
  queues: OrchestratorQueues;
  shape?: NodeShape;
  /** What it reports for each deploy.request, in order. @default Building, Testing, Deploying, Running */
  answer?: readonly DeploymentStatus[];
}

/**
 * A worker made of plain broker calls: it heartbeats node.info, records the commands on its queue,
 * and answers a deploy.request with a run of deploy.status messages, as a real worker would.
 */
export class FakeWorker {
  readonly received: Message[] = [];
  answering = true;
  /** The commit it says it deployed, with each Running it reports (as a real worker does). */
  commit: string | undefined;
  private subscription: Subscription | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(private readonly options: FakeWorkerOptions) {}

  static async start(options: FakeWorkerOptions): Promise<FakeWorker> {
    const worker = new FakeWorker(options);
    const { broker, queues, nodeId } = options;
    await broker.declareQueue(queues.orchestrator, { class: DeliveryClass.Durable });
    await broker.declareQueue(queues.telemetry, { class: DeliveryClass.Telemetry });
    await broker.declareQueue(queues.node(nodeId), { class: DeliveryClass.Durable });
    await worker.listen();
    return worker;
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** Starts consuming its command queue again (after stop()). */
  async listen(): Promise<void> {
    this.subscription = await this.options.broker.consume(this.options.queues.node(this.options.nodeId), async (delivery) => {
      this.received.push(delivery.message);
      if (delivery.message.type === MessageType.DeployRequest && this.answering) {
        for (const status of this.options.answer ?? [
          Status.BuildingDeployment,
          Status.TestingDeployment,
          Status.Deploying,
          Status.Running,
        ]) {
          await this.report(delivery.message.body.deploymentId, status, {
            ...(status === Status.Running && this.commit !== undefined ? { commit: this.commit } : {}),
          });
        }
      }
    });
  }

  requests(): MessageOf<'deploy.request'>[] {
    return this.received.filter((m): m is MessageOf<'deploy.request'> => m.type === MessageType.DeployRequest);
  }

  ofType<T extends Message['type']>(type: T): MessageOf<T>[] {
    return this.received.filter((m): m is MessageOf<T> => m.type === type);
  }

  async beat(shape: NodeShape = this.options.shape ?? {}): Promise<void> {
    await this.options.broker.publish(
      this.options.queues.telemetry,
      createMessage(MessageType.NodeInfo, nodeInfo(this.options.nodeId, shape), { from: this.options.nodeId }),
    );
  }

  startHeartbeats(intervalMs: number): void {
    this.heartbeat = setInterval(() => {
      this.beat().catch(() => undefined);
    }, intervalMs);
  }

  stopHeartbeats(): void {
    clearInterval(this.heartbeat);
  }

  /** Sends a deploy.status; `claimNodeId` forges the body's nodeId (it defaults to this worker's). */
  async report(
    deploymentId: string,
    status: DeploymentStatus,
    options: { claimNodeId?: string; message?: string; commit?: string; errorCode?: string; port?: number; url?: string; attempt?: number; restarts?: AppRestarts; readiness?: AppReadiness } = {},
  ): Promise<void> {
    const from = this.options.nodeId;
    await this.options.broker.publish(
      this.options.queues.orchestrator,
      createMessage(
        MessageType.DeployStatus,
        {
          deploymentId,
          status,
          at: new Date().toISOString(),
          nodeId: options.claimNodeId ?? from,
          ...(options.message === undefined ? {} : { message: options.message }),
          ...(options.commit === undefined ? {} : { commit: options.commit }),
          ...(options.errorCode === undefined ? {} : { errorCode: options.errorCode }),
          ...(options.port === undefined ? {} : { port: options.port }),
          ...(options.url === undefined ? {} : { url: options.url }),
          ...(options.attempt === undefined ? {} : { attempt: options.attempt }),
          ...(options.restarts === undefined ? {} : { restarts: options.restarts }),
          ...(options.readiness === undefined ? {} : { readiness: options.readiness }),
        },
        { from },
      ),
    );
  }

  async log(deploymentId: string, seq: number, texts: string[]): Promise<void> {
    const at = new Date().toISOString();
    await this.options.broker.publish(
      this.options.queues.telemetry,
      createMessage(
        MessageType.DeployLog,
        { deploymentId, seq, lines: texts.map((text) => ({ stream: 'stdout' as const, text, at })) },
        { from: this.options.nodeId },
      ),
    );
  }

  /** Sends a deploy.stats, as a real worker does every statsInterval for each running app. */
  async stats(deploymentId: string, sample: { cpuPercent: number; memMb: number; maxMemMb?: number }): Promise<void> {
    await this.options.broker.publish(
      this.options.queues.telemetry,
      createMessage(
        MessageType.DeployStats,
        { deploymentId, cpuPercent: sample.cpuPercent, memMb: sample.memMb, maxMemMb: sample.maxMemMb ?? 256, at: new Date().toISOString() },
        { from: this.options.nodeId },
      ),
    );
  }

  /** Dies: no more heartbeats, no more consuming. */
  async stop(): Promise<void> {
    this.stopHeartbeats();
    await this.subscription?.cancel();
    this.subscription = undefined;
  }
}
