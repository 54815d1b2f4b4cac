import type { Clock, KrakenError, Logger } from '@kraken/common';
import type { DeployStatusBody, DeploymentStatus, NodeInfoBody } from '@kraken/messages';

/** Why a command was not carried out. */
export type IgnoredReason = 'stale-epoch' | 'unexpected-type' | 'stopping';

export type WorkerEvents = {
  /** A deploy.status the worker published (or tried to). */
  status: [body: DeployStatusBody];
  heartbeat: [body: NodeInfoBody];
  'command-ignored': [info: { type: string; messageId: string; epoch: number; highestEpoch: number; reason: IgnoredReason }];
  /** The same deploymentId asked for again while it is in progress or running: not redone. */
  'duplicate-request': [info: { deploymentId: string; status: DeploymentStatus }];
  'logs-dropped': [info: { deploymentId: string; lines: number; reason: string }];
  /** Deployments found running at start and taken over without deploying them again. */
  reconciled: [deploymentIds: string[]];
  /** Something failed that the worker survived (a publish, a stats read, a deploy that threw). */
  failure: [error: KrakenError, context: { during: string; deploymentId?: string }];
};

export interface WorkerStats {
  commandsHandled: number;
  staleCommandsIgnored: number;
  duplicateRequests: number;
  deploysStarted: number;
  deploysSucceeded: number;
  deploysFailed: number;
  heartbeatsSent: number;
  statsSent: number;
  logBatchesSent: number;
  logLinesDropped: number;
  failures: number;
}

export function zeroStats(): WorkerStats {
  return {
    commandsHandled: 0,
    staleCommandsIgnored: 0,
    duplicateRequests: 0,
    deploysStarted: 0,
    deploysSucceeded: 0,
    deploysFailed: 0,
    heartbeatsSent: 0,
    statsSent: 0,
    logBatchesSent: 0,
    logLinesDropped: 0,
    failures: 0,
  };
}

/**
 * What each part of the worker reports through: the Worker is the one emitter and holds the one
 * set of counters, so its events and stats() cover every part.
 */
export interface WorkerReport {
  readonly counters: WorkerStats;
  readonly emit: <E extends keyof WorkerEvents>(event: E, ...args: WorkerEvents[E]) => void;
  /** A failure the worker survived: logged, counted and emitted. */
  readonly fail: (error: unknown, during: string, deploymentId?: string) => void;
}

/** What every part of the worker is given: the node it runs on, where it reports, the time, and whether the worker stopped. */
export interface WorkerPart {
  nodeId: string;
  report: WorkerReport;
  clock: Clock;
  logger: Logger;
  stopped: () => boolean;
}
