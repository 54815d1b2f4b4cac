import type { AppReadiness, AppRestarts, DeploymentStatus, Runtime } from '@kraken/messages';
import { DeploymentStatus as Status } from '@kraken/messages';
import type { DataKey } from '../data-key.js';
import { openDeployment } from './sealed-columns.js';
import type { DeploymentRecord, StatusChange, StatusHistoryEntry } from './records.js';

// The rows of the deployments and their history as SQLite gives them, and the records made of them.

export interface DeploymentRow {
  id: string;
  src_url: string;
  /** The URL's credentials (`user:password`), sealed; null when it has none. */
  src_credentials: string | null;
  branch: string;
  commit_sha: string | null;
  version: string | null;
  port: number | null;
  node_id: string | null;
  status: string;
  status_message: string | null;
  placement_reason: string | null;
  env: string;
  watch: number;
  runtime: string;
  memory_mb: number | null;
  attempt: number;
  created_at: string;
  updated_at: string;
  cpu_percent: number | null;
  mem_mb: number | null;
  max_mem_mb: number | null;
  image_size_mb: number | null;
  stats_at: string | null;
  url: string | null;
  restarts: string | null;
  readiness: string | null;
  name: string | null;
  removed_at: string | null;
}

export interface HistoryRow {
  deployment_id: string;
  status: string;
  message: string | null;
  node_id: string | null;
  at: string;
  release: number | null;
}

/** A new attempt starts with no restarts; a status that does not report them keeps the last known. */
export function restartsAfter(status: DeploymentStatus, change: StatusChange, current: DeploymentRecord): string | null {
  if (change.restarts !== undefined) return JSON.stringify(change.restarts);
  if (attemptStarts.has(status)) return null;
  return current.restarts === null ? null : JSON.stringify(current.restarts);
}

/**
 * Kept across the statuses of one attempt that do not report it (an older worker never does); a
 * new attempt (a redeploy, a move) and an app that no longer runs start with none.
 */
export function readinessAfter(status: DeploymentStatus, change: StatusChange, current: DeploymentRecord): string | null {
  if (change.readiness !== undefined) return JSON.stringify(change.readiness);
  if (attemptStarts.has(status) || notRunning.has(status)) return null;
  return current.readiness === null ? null : JSON.stringify(current.readiness);
}

const notRunning: ReadonlySet<DeploymentStatus> = new Set([Status.Stopped, Status.Destroyed, Status.Errored]);

const attemptStarts: ReadonlySet<DeploymentStatus> = new Set([Status.DeploymentRequested, Status.DelegatingDeployment, Status.UpdateRequested]);

export function toDeployment(row: DeploymentRow, dataKey: DataKey): DeploymentRecord {
  const { srcUrl, env } = openDeployment(dataKey, row);
  return {
    id: row.id,
    srcUrl,
    branch: row.branch,
    commit: row.commit_sha,
    version: row.version,
    port: row.port,
    nodeId: row.node_id,
    status: row.status as DeploymentStatus,
    statusMessage: row.status_message,
    placementReason: row.placement_reason,
    env,
    watch: row.watch === 1,
    runtime: row.runtime as Runtime,
    memoryMb: row.memory_mb,
    attempt: row.attempt,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    cpuPercent: row.cpu_percent,
    memMb: row.mem_mb,
    maxMemMb: row.max_mem_mb,
    imageSizeMb: row.image_size_mb,
    statsAt: row.stats_at,
    url: row.url,
    restarts: row.restarts === null ? null : (JSON.parse(row.restarts) as AppRestarts),
    readiness: row.readiness === null ? null : (JSON.parse(row.readiness) as AppReadiness),
    name: row.name,
    removedAt: row.removed_at,
  };
}

export function toHistoryEntry(row: HistoryRow): StatusHistoryEntry {
  return {
    deploymentId: row.deployment_id,
    status: row.status as DeploymentStatus,
    message: row.message,
    nodeId: row.node_id,
    at: row.at,
    release: row.release ?? 1,
  };
}
