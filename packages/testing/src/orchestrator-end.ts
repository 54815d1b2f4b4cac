import { DeliveryClass, MessageType } from '@kraken/messages';
import type { DeployLogBody, DeployStatsBody, DeployStatusBody, Message, NodeInfoBody } from '@kraken/messages';

/** What of a broker the orchestrator's end needs; `@kraken/broker`'s brokers have it (this package cannot import them: their tests import it). */
export interface QueueBroker {
  declareQueue(queue: string, options?: { class?: DeliveryClass }): Promise<void>;
  consume(queue: string, handler: (delivery: { readonly message: Message }) => void): Promise<{ cancel(): Promise<void> }>;
}

/** A worker's three queues, as `WorkerQueues` of `@kraken/worker` names them. */
export interface WorkerQueueNames {
  orchestrator: string;
  telemetry: string;
  node: string;
}

/** What a worker sent to the orchestrator, in the order it arrived. */
export interface OrchestratorEnd {
  readonly statuses: DeployStatusBody[];
  readonly logs: DeployLogBody[];
  readonly stats: DeployStatsBody[];
  readonly heartbeats: NodeInfoBody[];
  /** Stops recording; the queues stay for the caller to delete. */
  stop(): Promise<void>;
}

/**
 * The orchestrator's side of a worker's queues, for tests that run a worker (or an agent that
 * joins none) with no orchestrator: it declares the queues as the worker does, so commands
 * published to `queues.node` wait there, and records every status, log batch, stats sample and
 * heartbeat the worker sends.
 */
export async function orchestratorEnd(broker: QueueBroker, queues: WorkerQueueNames): Promise<OrchestratorEnd> {
  await broker.declareQueue(queues.orchestrator, { class: DeliveryClass.Durable });
  await broker.declareQueue(queues.telemetry, { class: DeliveryClass.Telemetry });
  await broker.declareQueue(queues.node, { class: DeliveryClass.Durable });
  const end = { statuses: [] as DeployStatusBody[], logs: [] as DeployLogBody[], stats: [] as DeployStatsBody[], heartbeats: [] as NodeInfoBody[] };
  const subscriptions = [
    await broker.consume(queues.orchestrator, ({ message }) => {
      if (message.type === MessageType.DeployStatus) end.statuses.push(message.body);
    }),
    await broker.consume(queues.telemetry, ({ message }) => {
      if (message.type === MessageType.DeployLog) end.logs.push(message.body);
      else if (message.type === MessageType.DeployStats) end.stats.push(message.body);
      else if (message.type === MessageType.NodeInfo) end.heartbeats.push(message.body);
    }),
  ];
  return {
    ...end,
    stop: async () => {
      for (const subscription of subscriptions) await subscription.cancel();
    },
  };
}
