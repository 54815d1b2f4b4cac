import type { AppReadiness, AppRestarts, DeploymentStatus, LogStream, NodeInfoBody, Runtime } from '@kraken/messages';

/** A deployment as the orchestrator keeps it. Unknown values are `null` (they map to SQL NULL). */
export interface DeploymentRecord {
  id: string;
  srcUrl: string;
  branch: string;
  commit: string | null;
  version: string | null;
  /** Host port, allocated cluster-wide. */
  port: number | null;
  /** The node it is placed on; null while waiting for a node. */
  nodeId: string | null;
  status: DeploymentStatus;
  /** Detail of the latest status (for Errored, the reason). */
  statusMessage: string | null;
  /** Why it runs where it runs, in words a user can read. */
  placementReason: string | null;
  env: Record<string, string>;
  /** Redeploy on new commits of the branch. */
  watch: boolean;
  runtime: Runtime;
  /** RAM the app is expected to need, used by scheduling and sent as its limit. */
  memoryMb: number | null;
  /** 1 for the first placement, +1 each time it is placed again (node died, redeploy). */
  attempt: number;
  createdAt: string;
  updatedAt: string;
  cpuPercent: number | null;
  memMb: number | null;
  maxMemMb: number | null;
  imageSizeMb: number | null;
  /** When cpuPercent, memMb and maxMemMb were last reported. */
  statsAt: string | null;
  url: string | null;
  /** How often the runtime restarted the app, whether it is crash-looping, how it last ended; null when not reported. */
  restarts: AppRestarts | null;
  /**
   * Whether the app answers HTTP on its port, as its worker last said; null when not reported (an
   * older worker, an app without a port) or once the attempt is over. An unready app gets no
   * traffic from the ingress.
   */
  readiness: AppReadiness | null;
  /**
   * The name the ingress answers for (`<name>.local`, or a Host header `<name>`): unique among the
   * deployments not destroyed; null for one adopted from a node's report under an id that is no DNS label.
   */
  name: string | null;
  /**
   * When it was removed (only a Destroyed or Errored deployment can be): it is left out of the
   * lists and its name is free, but it and its log stay readable by id until the retention ends.
   */
  removedAt: string | null;
}

export interface NewDeployment {
  id: string;
  srcUrl: string;
  branch: string;
  env?: Record<string, string>;
  watch?: boolean;
  runtime?: Runtime;
  memoryMb?: number | null;
  commit?: string | null;
  version?: string | null;
  /** Checked by the caller (DEPLOYMENT_NAME_PATTERN); a name a live deployment has is a Conflict. */
  name?: string | null;
}

export interface StatusChange {
  message?: string | null;
  /** The node reporting it, or the orchestrator's own id. */
  nodeId?: string | null;
  /** When it happened. @default now */
  at?: string;
  /** The broker message id; a second change with the same id is ignored (redelivery). */
  messageId?: string;
  /** Fields the status report carries along. */
  commit?: string;
  port?: number;
  url?: string;
  restarts?: AppRestarts;
  readiness?: AppReadiness;
}

export interface StatusHistoryEntry {
  deploymentId: string;
  status: DeploymentStatus;
  message: string | null;
  nodeId: string | null;
  at: string;
  /** The release (1, 2, 3 per deployment) current when it was recorded. */
  release: number;
}

export const NodeState = {
  Alive: 'alive',
  /** Missed a few heartbeats: no new work goes there, its apps stay. */
  Suspect: 'suspect',
  /** Silent for long enough that its apps are moved elsewhere. */
  Dead: 'dead',
} as const;
export type NodeState = (typeof NodeState)[keyof typeof NodeState];

export interface NodeRecord {
  id: string;
  info: NodeInfoBody;
  /** When its last node.info arrived (orchestrator time). */
  updateTime: string;
  state: NodeState;
  orchestrationPriority: number | null;
}

export interface StoredLogLine {
  deploymentId: string;
  /** Per deployment, +1 per line, never reused: readers page with `after`. */
  seq: number;
  stream: LogStream;
  text: string;
  at: string;
  /** The release (1, 2, 3 per deployment) current when it was stored. */
  release: number;
}

export interface LogCounters {
  /** Lines removed to keep the bound, oldest first. */
  dropped: number;
  /** Lines the senders reported dropping before they reached the orchestrator. */
  senderDropped: number;
  /** deploy.log batches that never arrived (jumps in their seq). */
  batchGaps: number;
}

export interface PendingStop {
  deploymentId: string;
  nodeId: string;
  reason: string;
}
