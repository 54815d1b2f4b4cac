// Public surface of @kraken/testing: helpers for tests that run against real services.
export { amqpUrl, defaultAmqpUrl, deleteQueues, redactUrl, requireRabbit } from './amqp.js';
export { uniqueName } from './names.js';
export { isolatedVhost } from './vhost.js';
export type { IsolatedVhost } from './vhost.js';
export { freePort, isListening } from './ports.js';
export { startRabbitNode } from './rabbit-node.js';
export type { RabbitNode, RabbitNodeOptions } from './rabbit-node.js';
export { tempDir } from './temp-dir.js';
export type { TempDir } from './temp-dir.js';
export { gitFixtureRepo, manifestToml } from './git-repo.js';
export { createNetnsLab } from './netns-lab.js';
export type { NetnsLab, NetnsHost, NetnsHostRef } from './netns-lab.js';
export type { NetnsLabOptions } from './netns-plan.js';
export { sweepStaleLabs } from './netns-teardown.js';
export type { CommandResult, RunOptions } from './netns-exec.js';
export { watchProcess } from './watch-process.js';
export { StopWaiting, eventually } from './eventually.js';
export type { WatchedProcess } from './watch-process.js';
