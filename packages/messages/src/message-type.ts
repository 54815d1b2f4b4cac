/** The `type` of every message on the wire; one discriminated union covers them all. */
export const MessageType = {
  NodeInfo: 'node.info',
  DeployRequest: 'deploy.request',
  DeployCancel: 'deploy.cancel',
  DeployStop: 'deploy.stop',
  DeployLifecycle: 'deploy.lifecycle',
  DeployPrepare: 'deploy.prepare',
  DeployStatus: 'deploy.status',
  DeployStats: 'deploy.stats',
  DeployLog: 'deploy.log',
  StateChange: 'state.change',
  LeaseTick: 'lease.tick',
  LeaderElected: 'leader.elected',
  LeaderInfo: 'leader.info',
  IngressRoutes: 'ingress.routes',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const messageTypes: ReadonlySet<string> = new Set(Object.values(MessageType));

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && messageTypes.has(value);
}

/**
 * How the broker must carry a message. Durable: persisted, publisher-confirmed, acked by hand and
 * handled idempotently by message id, because losing a command, a status change or a log line loses
 * state (a log batch waits out a broker outage in its sender's bounded buffer instead of being lost).
 * Telemetry: superseded by the next sample, so bounded queues may drop (and count).
 */
export const DeliveryClass = {
  Durable: 'durable',
  Telemetry: 'telemetry',
} as const;
export type DeliveryClass = (typeof DeliveryClass)[keyof typeof DeliveryClass];

// A Record over MessageType, so adding a type without deciding its delivery class fails to compile.
const deliveryClasses: Readonly<Record<MessageType, DeliveryClass>> = {
  [MessageType.NodeInfo]: DeliveryClass.Telemetry,
  [MessageType.DeployRequest]: DeliveryClass.Durable,
  [MessageType.DeployCancel]: DeliveryClass.Durable,
  [MessageType.DeployStop]: DeliveryClass.Durable,
  // a stop or start the user asked for is a command like the others: losing it loses their request
  [MessageType.DeployLifecycle]: DeliveryClass.Durable,
  // a command like the others; a lost one costs a slower failover, and the leader asks again
  [MessageType.DeployPrepare]: DeliveryClass.Durable,
  [MessageType.DeployStatus]: DeliveryClass.Durable,
  [MessageType.DeployStats]: DeliveryClass.Telemetry,
  [MessageType.DeployLog]: DeliveryClass.Durable,
  [MessageType.StateChange]: DeliveryClass.Durable,
  [MessageType.LeaseTick]: DeliveryClass.Telemetry,
  [MessageType.LeaderElected]: DeliveryClass.Durable,
  [MessageType.LeaderInfo]: DeliveryClass.Telemetry,
  // each table replaces the one before, and another follows within seconds
  [MessageType.IngressRoutes]: DeliveryClass.Telemetry,
};

export function deliveryClassOf(type: MessageType): DeliveryClass {
  return deliveryClasses[type];
}
