// Public surface of @kraken/rabbitmq: run a RabbitMQ node of your own and administer its users.
export { RabbitServer, rabbitInstalled, DEFAULT_SERVER_SCRIPT } from './server.js';
export type { RabbitServerOptions } from './server.js';
export { ensureUser, deleteUser, nodePermissions } from './users.js';
export type { Permissions } from './users.js';
export { isListening } from './listening.js';
export { clusterStatus, joinCluster, setPartitionHandling, growQuorumQueues, refoundAlone, isForgottenByCluster } from './cluster.js';
export type { ClusterStatus, JoinClusterOptions } from './cluster.js';
