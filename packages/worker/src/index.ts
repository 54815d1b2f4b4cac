// Public surface of @kraken/worker: every export is listed by name.
export { Worker } from './worker.js';
export type { IgnoredReason, WorkerCreateOptions, WorkerEvents, WorkerStats } from './worker.js';
export type { Deployer, EngineProbe } from './deployer.js';
export type { NodeInfoExtensionsProvider } from './node-info-extensions.js';
export type { ReadyProbe } from './ready-watch.js';
export { compileWorkerOptions, defaultConcurrency } from './options.js';
export type { CompiledWorkerOptions, Duration, WorkerOptions, WorkerQueues } from './options.js';
export { OsSystemProbe, ipv4Addresses } from './system-probe.js';
export type { DiskUsage, OsSystemProbeOptions, SystemProbe, SystemSample } from './system-probe.js';
export { LogBatcher, truncateUtf8 } from './log-batcher.js';
export { FileLogCursorStore } from './log-cursors.js';
export type { FileLogCursorStoreOptions, LogCursorStore } from './log-cursors.js';
export type { LogBatcherOptions, LogBatcherStats } from './log-batcher.js';
export { statusOfStep } from './status-map.js';
