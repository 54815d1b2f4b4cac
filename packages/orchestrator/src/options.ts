import { ErrorCode, KrakenError } from '@kraken/common';
import { Queues } from '@kraken/messages';
import type { LivenessOptions } from './liveness/liveness.js';
import type { PortRange } from './scheduling/ports.js';
import { DEFAULT_PORT_RANGE } from './scheduling/ports.js';
import { DEFAULT_NODE_SAMPLE_INTERVAL_MS, DEFAULT_NODE_SAMPLES } from './stats/node-history.js';
import { DEFAULT_STATS_SAMPLES } from './stats/stats-history.js';

/** Where the orchestrator listens and sends; tests give unique names, clusters keep the defaults. */
export interface OrchestratorQueues {
  /** Durable: deploy.status. @default Queues.Orchestrator */
  orchestrator: string;
  /** The bounded queue of node.info, deploy.stats (telemetry) and deploy.log (durable). @default Queues.OrchestratorTelemetry */
  telemetry: string;
  /** One worker's command queue. @default Queues.node */
  node: (nodeId: string) => string;
}

export interface OrchestratorOptions extends LivenessOptions {
  /** @default the fixed Queues names */
  queues?: Partial<OrchestratorQueues>;
  /** How often tick() runs liveness and retries waiting deployments; 0 = never by itself. @default 1_000 */
  tickIntervalMs?: number;
  /** Host ports handed to deployments. @default 20000-29999 */
  portRange?: PortRange;
  /** RAM assumed for an app that does not say, when scheduling. @default 256 */
  defaultMemoryMb?: number;
  /**
   * How often the heads of watched branches (`watch: true`) are read with `git ls-remote`; a new
   * commit redeploys. 0 = never. @default 60_000
   */
  watchIntervalMs?: number;
  /** CPU and memory samples kept in memory per deployment for charts (statsHistory). @default 360 */
  statsSamples?: number;
  /** CPU, memory and disk samples kept in memory per node for charts (Node.history). @default 360 */
  nodeSamples?: number;
  /** At most one node sample per this many ms (the newest heartbeat replaces the window's sample). @default 10_000 */
  nodeSampleIntervalMs?: number;
  /**
   * How long a node's Docker engine may stop answering before its containers' deployments are
   * placed elsewhere (the node itself stays alive, its other apps stay). An engine restart takes a
   * few seconds and brings its containers back; longer is an outage. @default 10_000
   */
  engineDownGraceMs?: number;
  /**
   * How long a removed deployment (and its log) stays readable by id before the loop deletes it
   * for good; 0 deletes it at the next pass. @default 7 days
   */
  removedRetentionMs?: number;
}

/** One week: long enough to read why a removed app failed, short enough that dead apps do not pile up. */
const DEFAULT_REMOVED_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface CompiledOrchestratorOptions {
  queues: OrchestratorQueues;
  tickIntervalMs: number;
  portRange: PortRange;
  defaultMemoryMb: number;
  watchIntervalMs: number;
  statsSamples: number;
  nodeSamples: number;
  nodeSampleIntervalMs: number;
  liveness: LivenessOptions;
  engineDownGraceMs: number;
  removedRetentionMs: number;
}

export function compileOrchestratorOptions(options: OrchestratorOptions = {}): CompiledOrchestratorOptions {
  const compiled: CompiledOrchestratorOptions = {
    queues: {
      orchestrator: options.queues?.orchestrator ?? Queues.Orchestrator,
      telemetry: options.queues?.telemetry ?? Queues.OrchestratorTelemetry,
      node: options.queues?.node ?? Queues.node,
    },
    tickIntervalMs: options.tickIntervalMs ?? 1_000,
    portRange: options.portRange ?? DEFAULT_PORT_RANGE,
    defaultMemoryMb: options.defaultMemoryMb ?? 256,
    watchIntervalMs: options.watchIntervalMs ?? 60_000,
    statsSamples: options.statsSamples ?? DEFAULT_STATS_SAMPLES,
    nodeSamples: options.nodeSamples ?? DEFAULT_NODE_SAMPLES,
    nodeSampleIntervalMs: options.nodeSampleIntervalMs ?? DEFAULT_NODE_SAMPLE_INTERVAL_MS,
    liveness: definedOnly({
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      missedBeatsBeforeSuspect: options.missedBeatsBeforeSuspect,
      deadAfterMs: options.deadAfterMs,
      stoppedGraceMs: options.stoppedGraceMs,
      suspectPhi: options.suspectPhi,
      deadPhi: options.deadPhi,
      windowSize: options.windowSize,
      minStdDevMs: options.minStdDevMs,
      acceptablePauseMs: options.acceptablePauseMs,
    }),
    engineDownGraceMs: options.engineDownGraceMs ?? 10_000,
    removedRetentionMs: options.removedRetentionMs ?? DEFAULT_REMOVED_RETENTION_MS,
  };
  if (!Number.isInteger(compiled.tickIntervalMs) || compiled.tickIntervalMs < 0) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `orchestrator option tickIntervalMs must be an integer >= 0, got ${String(compiled.tickIntervalMs)}`,
    );
  }
  if (!Number.isInteger(compiled.watchIntervalMs) || compiled.watchIntervalMs < 0) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `orchestrator option watchIntervalMs must be an integer >= 0 (0 disables branch watching), got ${String(compiled.watchIntervalMs)}`,
    );
  }
  if (!Number.isInteger(compiled.nodeSampleIntervalMs) || compiled.nodeSampleIntervalMs < 1) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `orchestrator option nodeSampleIntervalMs must be a positive integer, got ${String(compiled.nodeSampleIntervalMs)}`,
    );
  }
  if (!Number.isInteger(compiled.defaultMemoryMb) || compiled.defaultMemoryMb < 1) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `orchestrator option defaultMemoryMb must be a positive integer, got ${String(compiled.defaultMemoryMb)}`,
    );
  }
  if (!Number.isFinite(compiled.engineDownGraceMs) || compiled.engineDownGraceMs < 0) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `orchestrator option engineDownGraceMs must be a number of ms >= 0, got ${String(compiled.engineDownGraceMs)}`,
    );
  }
  if (!Number.isFinite(compiled.removedRetentionMs) || compiled.removedRetentionMs < 0) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `orchestrator option removedRetentionMs must be a number of ms >= 0, got ${String(compiled.removedRetentionMs)}`,
    );
  }
  return compiled;
}

/** The options a caller set, without the keys it left undefined (exactOptionalPropertyTypes). */
function definedOnly<T extends object>(options: { [K in keyof T]-?: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T;
}
