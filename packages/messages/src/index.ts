// Public surface of @kraken/messages, the Kraken wire protocol: every export is listed by name.
export { PROTOCOL_VERSION, envelopeSchema } from './envelope.js';
export type { Envelope } from './envelope.js';
export { MessageType, isMessageType, DeliveryClass, deliveryClassOf } from './message-type.js';
export { DeploymentStatus, deploymentStatusOrder, isStoppedStatus, isTerminalStatus, isRedeployFailure, redeployFailedMessage } from './status.js';
export { Runtime, LifecycleAction, LogStream, LogLimits, DEFAULT_HEARTBEAT_INTERVAL_MS, ROUTES_MAX, FailoverBuildState, MAX_FAILOVER_BUILDS } from './bodies.js';
export type {
  NodeInfoBody,
  DeployRequestBody,
  DeployCancelBody,
  DeployStopBody,
  DeployLifecycleBody,
  DeployPrepareBody,
  FailoverBuild,
  DeployStatusBody,
  DeployStatsBody,
  DeployLogBody,
  StateChangeBody,
  LeaseTickBody,
  LeaderElectedBody,
  LeaderInfoBody,
  IngressRoutesBody,
  IngressRoute,
  LogLine,
  AppExit,
  AppRestarts,
  AppReadiness,
} from './bodies.js';
export { messageSchemas, messageSchema, createMessage, validateBody } from './messages.js';
export type { Message, MessageOf, BodyOf, BodyInputOf, BodyValidation, MessageMeta } from './messages.js';
export { DEFAULT_MAX_MESSAGE_BYTES, encode, decode } from './codec.js';
export type { CodecOptions } from './codec.js';
export { DecodeFailure, DecodeError } from './decode-error.js';
export { BrokerUsers, Queues } from './names.js';
export { ID_PATTERN, DEPLOYMENT_NAME_PATTERN, DEPLOYMENT_NAME_RULE, envNameProblem, envValueProblem } from './fields.js';
export { EXTENSION_KEY_PATTERN, NodeInfoExtensionLimits, parseNodeInfoExtensions } from './node-info-extensions.js';
export type { NodeInfoExtensions } from './node-info-extensions.js';
export { AppUser, MAX_REASON_LENGTH, describeIsolation, fitIsolation } from './isolation.js';
export type { Isolation } from './isolation.js';
export { parseJoinAnswer, parseJoinRequest, protocolMajor } from './join.js';
export type { JoinAnswer, JoinRequest, ParsedJoinRequest, BrokerClusterGrant } from './join.js';
