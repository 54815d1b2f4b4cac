import { availableParallelism } from 'node:os';
import { ErrorCode, KrakenError, parseDuration } from '@kraken/common';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, LogLimits, Queues } from '@kraken/messages';
import type { ReadyPolicy } from './ready-watch.js';
import type { CrashLoopPolicy } from './restarts.js';

/** Durations accept milliseconds or strings like "200ms", "2s". */
export type Duration = number | string;

/** Queue names the worker uses; tests give unique names, clusters keep the defaults. */
export interface WorkerQueues {
  /** Durable: where deploy.status goes. @default Queues.Orchestrator */
  orchestrator: string;
  /** The bounded queue where node.info, deploy.stats (telemetry) and deploy.log (durable) go. @default Queues.OrchestratorTelemetry */
  telemetry: string;
  /** Durable: this worker's own command queue. @default Queues.node(nodeId) */
  node: string;
}

/** What an app may set; every field has a documented default. */
export interface WorkerOptions {
  /** @default the fixed Queues names */
  queues?: Partial<WorkerQueues>;
  /** node.info period. @default DEFAULT_HEARTBEAT_INTERVAL_MS (2 s) */
  heartbeatInterval?: Duration;
  /** deploy.stats period per running deployment while someone watches the cluster (see Worker.setWatched). @default '10s' */
  statsInterval?: Duration;
  /** deploy.stats period while nobody watches: the stats still reach the store, rarely. @default '60s' */
  idleStatsInterval?: Duration;
  /** A log batch is sent once it has this many lines (at most LogLimits.maxLinesPerBatch). @default 500 */
  logFlushLines?: number;
  /** ...or once its oldest line has waited this long. @default '200ms' */
  logFlushInterval?: Duration;
  /** Lines held per deployment while the broker is slow; beyond it the oldest are dropped and counted. @default 20_000 */
  logBufferLines?: number;
  /** Encoded size a log batch stays under, so it always fits the broker's message limit. @default 512 KiB */
  logBatchBytes?: number;
  /**
   * Deploys cloning and building at once; a deploy's test and start do not count (each has its own
   * time limit), so one stuck app never holds up the others. @default 1 on <= 2 cores, else cores / 2
   */
  maxConcurrentDeploys?: number;
  /** Host written into Running urls. @default the node's first IPv4 address, else 127.0.0.1 */
  publicHost?: string;
  /** Wait before following a deployment's logs again after the stream ended on its own. @default '1s' */
  logRefollowDelay?: Duration;
  /** How long a Docker ping may take before the engine counts as unhealthy. @default '2s' */
  enginePingTimeout?: Duration;
  /** Cores assumed for the concurrency default. @default os.availableParallelism() */
  cores?: number;
  /** Reported in heartbeats: 0 = this node leads, 1 = standby; unset for a plain worker. */
  orchestrationPriority?: number;
  /** How long the `nodeInfoExtensions` provider may take before a heartbeat goes out without its readings. @default '1s' */
  nodeInfoExtensionsTimeout?: Duration;
  /**
   * Restarts of an app that ends again each time before running `crashLoopSteadyAfter`, after
   * which the worker stops it and reports it Errored with the reason. @default 5
   */
  crashLoopRestarts?: number;
  /** A restarted app that runs this long is no longer crash-looping. @default '1m' */
  crashLoopSteadyAfter?: Duration;
  /**
   * Build ahead, at low priority, apps that run on other nodes, when the orchestrator asks: a move
   * here is then a start. Off, the node's heartbeats list none, so the orchestrator asks others, and
   * a move here builds. @default true
   */
  failoverBuilds?: boolean;
  /**
   * How often each running app with a port is checked for an HTTP answer on it (any answer counts,
   * as in the deploy's ready check). @default '5s'
   */
  readyCheckInterval?: Duration;
  /** How long one check waits for an answer. @default '3s' (never more than readyCheckInterval) */
  readyCheckTimeout?: Duration;
  /**
   * Checks in a row without an answer after which a running app is reported unready and the
   * ingress sends it nothing; one answer makes it ready again. @default 3
   */
  readyCheckFailures?: number;
}

export interface CompiledWorkerOptions {
  queues: WorkerQueues;
  heartbeatIntervalMs: number;
  statsIntervalMs: number;
  idleStatsIntervalMs: number;
  logFlushLines: number;
  logFlushIntervalMs: number;
  logBufferLines: number;
  logBatchBytes: number;
  maxConcurrentDeploys: number;
  publicHost: string | undefined;
  logRefollowDelayMs: number;
  enginePingTimeoutMs: number;
  orchestrationPriority: number | undefined;
  nodeInfoExtensionsTimeoutMs: number;
  crashLoop: CrashLoopPolicy;
  ready: ReadyPolicy;
  failoverBuilds: boolean;
}

/** Builds compete for CPU and disk; a small machine does one at a time so each finishes sooner. */
export function defaultConcurrency(cores: number): number {
  return cores <= 2 ? 1 : Math.floor(cores / 2);
}

export function compileWorkerOptions(nodeId: string, options: WorkerOptions = {}): CompiledWorkerOptions {
  const duration = (name: keyof WorkerOptions, value: Duration, min: number): number => {
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch (error) {
      throw new KrakenError(ErrorCode.InvalidConfig, `worker option ${name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (ms < min) throw new KrakenError(ErrorCode.InvalidConfig, `worker option ${name} must be at least ${min} ms, got ${ms} ms`);
    return ms;
  };
  const integer = (name: keyof WorkerOptions, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new KrakenError(ErrorCode.InvalidConfig, `worker option ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
    }
    return value;
  };
  const cores = integer('cores', options.cores ?? availableParallelism(), 1);
  const readyIntervalMs = duration('readyCheckInterval', options.readyCheckInterval ?? '5s', 10);
  const logFlushLines = integer('logFlushLines', options.logFlushLines ?? 500, 1, LogLimits.maxLinesPerBatch);
  const compiled: CompiledWorkerOptions = {
    queues: {
      orchestrator: options.queues?.orchestrator ?? Queues.Orchestrator,
      telemetry: options.queues?.telemetry ?? Queues.OrchestratorTelemetry,
      node: options.queues?.node ?? Queues.node(nodeId),
    },
    heartbeatIntervalMs: duration('heartbeatInterval', options.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL_MS, 1),
    statsIntervalMs: duration('statsInterval', options.statsInterval ?? '10s', 1),
    idleStatsIntervalMs: duration('idleStatsInterval', options.idleStatsInterval ?? '60s', 1),
    logFlushLines,
    logFlushIntervalMs: duration('logFlushInterval', options.logFlushInterval ?? '200ms', 1),
    // never smaller than one batch, or a full batch could not be formed
    logBufferLines: integer('logBufferLines', options.logBufferLines ?? 20_000, logFlushLines),
    // a line may be 16 KiB, so a batch must hold at least one of them plus the envelope
    logBatchBytes: integer('logBatchBytes', options.logBatchBytes ?? 512 * 1024, 2 * LogLimits.maxLineBytes),
    maxConcurrentDeploys: integer('maxConcurrentDeploys', options.maxConcurrentDeploys ?? defaultConcurrency(cores), 1),
    publicHost: options.publicHost,
    logRefollowDelayMs: duration('logRefollowDelay', options.logRefollowDelay ?? '1s', 0),
    enginePingTimeoutMs: duration('enginePingTimeout', options.enginePingTimeout ?? '2s', 1),
    orchestrationPriority: options.orchestrationPriority === undefined ? undefined : integer('orchestrationPriority', options.orchestrationPriority, 0, 100),
    nodeInfoExtensionsTimeoutMs: duration('nodeInfoExtensionsTimeout', options.nodeInfoExtensionsTimeout ?? '1s', 1),
    failoverBuilds: options.failoverBuilds ?? true,
    crashLoop: {
      failAfterRestarts: integer('crashLoopRestarts', options.crashLoopRestarts ?? 5, 1, 1000),
      steadyAfterMs: duration('crashLoopSteadyAfter', options.crashLoopSteadyAfter ?? '1m', 1),
    },
    ready: {
      intervalMs: readyIntervalMs,
      // a check never outlasts the interval, so a hung app's checks cannot pile up behind it
      probeTimeoutMs: Math.min(readyIntervalMs, duration('readyCheckTimeout', options.readyCheckTimeout ?? '3s', 1)),
      failuresBeforeUnready: integer('readyCheckFailures', options.readyCheckFailures ?? 3, 1, 1000),
    },
  };
  if (compiled.publicHost !== undefined && !/^[A-Za-z0-9.:[\]-]{1,253}$/.test(compiled.publicHost)) {
    throw new KrakenError(ErrorCode.InvalidConfig, `worker option publicHost must be a host name or IP address, got ${JSON.stringify(compiled.publicHost)}`);
  }
  return compiled;
}
