import { MemoryBroker } from '@kraken/broker';
import { MemoryLogger } from '@kraken/common';
import type { BodyInputOf, DeployLogBody, DeployStatusBody, Message, NodeInfoBody } from '@kraken/messages';
import { MessageType, createMessage } from '@kraken/messages';
import type { SystemProbe, SystemSample } from '../src/system-probe.js';
import type { WorkerOptions } from '../src/options.js';
import type { ReadyProbe } from '../src/ready-watch.js';
import { Worker } from '../src/worker.js';
import type { EngineProbe } from '../src/deployer.js';
import type { NodeInfoExtensionsProvider } from '../src/node-info-extensions.js';
import type { LogCursorStore } from '../src/log-cursors.js';
import { FakeDeployer } from './fake-deployer.js';

export const fixedSample: SystemSample = {
  hostname: 'mini-pc',
  addresses: ['10.1.2.3'],
  arch: 'x64',
  cpu: { model: 'Test CPU', cores: 4 },
  ram: { freeMb: 1000, usedMb: 3000, totalMb: 4000 },
  load: { m1: 0.5, m5: 0.25, m15: 0.125 },
  uptimeSec: 3600,
};

const fakeProbe: SystemProbe = { sample: () => Promise.resolve(fixedSample) };

export interface Harness {
  broker: MemoryBroker;
  deployer: FakeDeployer;
  logger: MemoryLogger;
  worker: Worker;
  statuses: DeployStatusBody[];
  telemetry: Message[];
  logs(deploymentId: string): DeployLogBody[];
  heartbeats(): NodeInfoBody[];
  send<
    T extends typeof MessageType.DeployRequest | typeof MessageType.DeployCancel | typeof MessageType.DeployStop | typeof MessageType.DeployLifecycle | typeof MessageType.DeployPrepare | typeof MessageType.LeaderElected,
  >(
    type: T,
    body: BodyInputOf<T>,
    meta?: { epoch?: number; id?: string },
  ): Promise<void>;
  statusesOf(deploymentId: string): string[];
  /** Starts consuming telemetry when the harness was started with holdTelemetry. */
  releaseTelemetry(): Promise<void>;
  close(): Promise<void>;
}

export const queues = { orchestrator: 'test.orchestrator', telemetry: 'test.telemetry', node: 'test.node.n1' };

export async function startHarness(
  input: {
    options?: WorkerOptions;
    deployer?: FakeDeployer;
    engine?: EngineProbe;
    probe?: SystemProbe;
    nodeInfoExtensions?: NodeInfoExtensionsProvider;
    logCursors?: LogCursorStore;
    /** @default every app answers */
    readyProbe?: ReadyProbe;
    beforeCreate?: (broker: MemoryBroker) => Promise<void>;
    holdTelemetry?: boolean;
  } = {},
): Promise<Harness> {
  const broker = new MemoryBroker();
  const deployer = input.deployer ?? new FakeDeployer();
  const logger = new MemoryLogger();
  await input.beforeCreate?.(broker);
  const worker = await Worker.create({
    broker,
    deployer,
    nodeId: 'n1',
    logger,
    probe: input.probe ?? fakeProbe,
    engine: input.engine ?? { ping: () => Promise.resolve('OK') },
    ...(input.nodeInfoExtensions === undefined ? {} : { nodeInfoExtensions: input.nodeInfoExtensions }),
    ...(input.logCursors === undefined ? {} : { logCursors: input.logCursors }),
    readyProbe: input.readyProbe ?? (() => Promise.resolve({ answered: true })),
    options: { queues, heartbeatInterval: '1h', statsInterval: '1h', logFlushInterval: 20, ...input.options },
  });
  const statuses: DeployStatusBody[] = [];
  const telemetry: Message[] = [];
  const subscriptions = [
    await broker.consume(queues.orchestrator, (delivery) => {
      if (delivery.message.type === MessageType.DeployStatus) statuses.push(delivery.message.body);
    }),
  ];
  const releaseTelemetry = async (): Promise<void> => {
    subscriptions.push(
      await broker.consume(queues.telemetry, (delivery) => {
        telemetry.push(delivery.message);
      }),
    );
  };
  if (input.holdTelemetry !== true) await releaseTelemetry();
  return {
    broker,
    deployer,
    logger,
    worker,
    statuses,
    telemetry,
    logs: (deploymentId) =>
      telemetry.flatMap((message) => (message.type === MessageType.DeployLog && message.body.deploymentId === deploymentId ? [message.body] : [])),
    heartbeats: () => telemetry.flatMap((message) => (message.type === MessageType.NodeInfo ? [message.body] : [])),
    send: (type, body, meta = {}) => broker.publish(queues.node, createMessage(type, body, { from: 'orchestrator', epoch: meta.epoch ?? 1, ...(meta.id === undefined ? {} : { id: meta.id }) })),
    statusesOf: (deploymentId) => statuses.filter((status) => status.deploymentId === deploymentId).map((status) => status.status),
    releaseTelemetry,
    close: async () => {
      await worker.stop();
      for (const subscription of subscriptions) await subscription.cancel();
      await broker.close();
    },
  };
}

export const request = (deploymentId: string, extra: Partial<BodyInputOf<typeof MessageType.DeployRequest>> = {}): BodyInputOf<typeof MessageType.DeployRequest> => ({
  deploymentId,
  srcUrl: 'https://git.home.lan/alice/app.git',
  branch: 'main',
  ...extra,
});
