import type Database from 'better-sqlite3';
import { ErrorCode, KrakenError, redactCredentials } from '@kraken/common';
import type { DeploymentStatus } from '@kraken/messages';
import { DeploymentStatus as Status } from '@kraken/messages';
import type { DataKey } from '../data-key.js';
import { isSealed } from '../data-key.js';
import type { ChangeLog } from './change-log.js';
import type { LogTable } from './log-table.js';
import type { PendingStops } from './pending-stops.js';
import type { ReadCache } from './read-cache.js';
import type { DeploymentRecord, NewDeployment, StatusChange, StatusHistoryEntry } from './records.js';
import { readinessAfter, restartsAfter, toDeployment } from './rows.js';
import type { DeploymentRow } from './rows.js';
import type { SealedDeploymentColumns } from './sealed-columns.js';
import { openDeployment, sealDeployment, sealEnv, splitCredentials } from './sealed-columns.js';

/** Fields of a deployment that a status change may set along with the status. */
export interface DeploymentPatch {
  nodeId?: string | null;
  placementReason?: string | null;
  port?: number | null;
  attempt?: number;
  commit?: string | null;
  url?: string | null;
  /** The app's whole environment, replacing the stored one (a settings change). */
  env?: Record<string, string>;
}

export interface StatsUpdate {
  cpuPercent: number;
  memMb: number;
  maxMemMb: number;
  imageSizeMb?: number | undefined;
  /** When they were measured. @default now */
  at?: string;
}

function prepare(db: { prepare(sql: string): Database.Statement }, epochKey: string) {
  return {
    insert: db.prepare(`INSERT INTO deployments
      (id, src_url, src_credentials, branch, commit_sha, version, status, env, watch, runtime, memory_mb, name, created_at, updated_at)
      VALUES (@id, @src_url, @src_credentials, @branch, @commit_sha, @version, @status, @env, @watch, @runtime, @memory_mb, @name, @created_at, @created_at)`),
    get: db.prepare('SELECT * FROM deployments WHERE id = ?'),
    liveNamed: db.prepare(`SELECT id FROM deployments WHERE name = ? AND status <> 'Destroyed' AND removed_at IS NULL`),
    markRemoved: db.prepare('UPDATE deployments SET removed_at = @removed_at, updated_at = @removed_at WHERE id = @id'),
    delete: db.prepare('DELETE FROM deployments WHERE id = ?'),
    update: db.prepare(`UPDATE deployments SET status = @status, status_message = @status_message, node_id = @node_id,
      placement_reason = @placement_reason, port = @port, attempt = @attempt, commit_sha = @commit_sha, url = @url,
      restarts = @restarts, readiness = @readiness, updated_at = @updated_at WHERE id = @id`),
    setWatch: db.prepare('UPDATE deployments SET watch = @watch, updated_at = @updated_at WHERE id = @id'),
    setEnv: db.prepare('UPDATE deployments SET env = @env WHERE id = @id'),
    secretColumns: db.prepare('SELECT id, src_url, src_credentials, env FROM deployments'),
    sealSecretColumns: db.prepare('UPDATE deployments SET src_url = @src_url, src_credentials = @src_credentials, env = @env WHERE id = @id'),
    updateStats: db.prepare(`UPDATE deployments SET cpu_percent = @cpu_percent, mem_mb = @mem_mb, max_mem_mb = @max_mem_mb,
      image_size_mb = COALESCE(@image_size_mb, image_size_mb), stats_at = @stats_at WHERE id = @id`),
    insertHistory: db.prepare(
      // the term is read in SQL, so a standby replaying this statement records the same one
      `INSERT INTO deployment_status_history (deployment_id, status, message, node_id, at, message_id, epoch, release)
        VALUES (?, ?, ?, ?, ?, ?, (SELECT CAST(value AS INTEGER) FROM settings WHERE key = '${epochKey}'),
          (SELECT COALESCE(MAX(number), 1) FROM releases WHERE deployment_id = ?))`,
    ),
    historyByMessageId: db.prepare('SELECT 1 FROM deployment_status_history WHERE message_id = ?'),
  };
}

/** What the table needs of the store it is part of. */
export interface DeploymentTableParts {
  /** Prepares statements whose writes the change log records. */
  db: { prepare(sql: string): Database.Statement };
  changes: ChangeLog;
  cache: ReadCache;
  dataKey: DataKey;
  logs: LogTable;
  pendingStops: PendingStops;
  /** The settings key of the leader term, which history rows carry. */
  epochKey: string;
  currentRelease(deploymentId: string): number;
  now(): string;
}

/**
 * The deployments and their status histories. Part of the orchestrator's store
 * (`store.deployments`): writes go through the store's change log (standbys replay them), reads
 * come from the store's read cache, and secrets (env values, git credentials) are sealed with the
 * cluster's data key on their way in.
 */
export class DeploymentTable {
  private readonly statements: ReturnType<typeof prepare>;

  constructor(private readonly parts: DeploymentTableParts) {
    this.statements = prepare(parts.db, parts.epochKey);
  }

  /** The id of the deployment (not destroyed, not removed) that has `name`, if any. */
  named(name: string): string | undefined {
    const row = this.statements.liveNamed.get(name) as { id: string } | undefined;
    return row?.id;
  }

  /** Inserts a deployment in DeploymentRequested, with its first history entry. */
  create(input: NewDeployment): DeploymentRecord {
    const now = this.parts.now();
    this.parts.changes.transaction(() => {
      if (this.statements.get.get(input.id) !== undefined) {
        throw new KrakenError(ErrorCode.Conflict, `deployment ${input.id} already exists`, { deploymentId: input.id });
      }
      const holder = input.name == null ? undefined : this.named(input.name);
      if (holder !== undefined) {
        throw new KrakenError(ErrorCode.Conflict, `the name ${String(input.name)} is taken by deployment ${holder}; choose another`, {
          deploymentId: input.id,
          details: { field: 'name' },
        });
      }
      this.statements.insert.run({
        id: input.id,
        ...sealDeployment(this.parts.dataKey, input.srcUrl, input.env ?? {}),
        branch: input.branch,
        commit_sha: input.commit ?? null,
        version: input.version ?? null,
        status: Status.DeploymentRequested,
        watch: input.watch === true ? 1 : 0,
        runtime: input.runtime ?? 'docker',
        memory_mb: input.memoryMb ?? null,
        name: input.name ?? null,
        created_at: now,
      });
      this.statements.insertHistory.run(input.id, Status.DeploymentRequested, null, null, now, null, input.id);
    })();
    const created = this.reload(input.id);
    this.parts.cache.appendHistory({ deploymentId: input.id, status: Status.DeploymentRequested, message: null, nodeId: null, at: now, release: 1 });
    return created;
  }

  /** Records are frozen snapshots: a change replaces them. */
  get(id: string): DeploymentRecord | undefined {
    return this.parts.cache.getDeployment(id);
  }

  /** Like get, but a missing deployment is a NOT_FOUND error. */
  require(id: string): DeploymentRecord {
    const found = this.get(id);
    if (found === undefined) throw new KrakenError(ErrorCode.NotFound, `no deployment with id ${id}`, { deploymentId: id });
    return found;
  }

  /**
   * All deployments (oldest first), or those placed on one node. Removed ones are left out unless
   * asked for: nothing but the retention cleanup (and an export) has business with them.
   */
  list(filter: { nodeId?: string; includeRemoved?: boolean } = {}): DeploymentRecord[] {
    const { nodeId, includeRemoved = false } = filter;
    return this.parts.cache.listDeployments().filter((d) => (includeRemoved || d.removedAt === null) && (nodeId === undefined || d.nodeId === nodeId));
  }

  /**
   * Marks a Destroyed or Errored deployment removed (the caller checks the status): it leaves the
   * lists and frees its name. Removing one already removed changes nothing.
   */
  markRemoved(id: string): DeploymentRecord {
    const current = this.require(id);
    if (current.removedAt !== null) return current;
    this.statements.markRemoved.run({ id, removed_at: this.parts.now() });
    return this.reload(id);
  }

  /**
   * Deletes the deployments removed at or before `before` (ISO time) with their history, logs and
   * log counters, in one transaction; returns their ids.
   */
  purgeRemoved(before: string): string[] {
    const ids = this.list({ includeRemoved: true })
      .filter((d) => d.removedAt !== null && d.removedAt <= before)
      .map((d) => d.id);
    if (ids.length === 0) return ids;
    this.parts.changes.transaction(() => {
      for (const id of ids) {
        this.parts.logs.forget(id);
        this.parts.pendingStops.forget(id);
        // the history goes with it (ON DELETE CASCADE)
        this.statements.delete.run(id);
      }
    })();
    // rare: reading everything again is simpler than taking rows out of each map
    this.parts.cache.clear();
    return ids;
  }

  /**
   * Sets the status (and any fields that go with it) and appends it to the history, in one
   * transaction. Returns undefined when `change.messageId` was already recorded (a redelivery).
   */
  setStatus(id: string, status: DeploymentStatus, change: StatusChange = {}, patch: DeploymentPatch = {}): DeploymentRecord | undefined {
    const at = change.at ?? this.parts.now();
    // a message may quote a git URL (a failed ls-remote): its credentials are not kept
    const message = change.message == null ? null : redactCredentials(change.message);
    const entry: StatusHistoryEntry = { deploymentId: id, status, message, nodeId: change.nodeId ?? null, at, release: 1 };
    const applied = this.parts.changes.transaction((): boolean => {
      entry.release = this.parts.currentRelease(id);
      const current = this.require(id);
      if (change.messageId !== undefined && this.statements.historyByMessageId.get(change.messageId) !== undefined) return false;
      this.statements.update.run({
        id,
        status,
        status_message: message,
        node_id: patch.nodeId === undefined ? current.nodeId : patch.nodeId,
        placement_reason: patch.placementReason === undefined ? current.placementReason : patch.placementReason,
        port: patch.port === undefined ? (change.port ?? current.port) : patch.port,
        attempt: patch.attempt ?? current.attempt,
        commit_sha: patch.commit === undefined ? (change.commit ?? current.commit) : patch.commit,
        url: patch.url === undefined ? (change.url ?? current.url) : patch.url,
        restarts: restartsAfter(status, change, current),
        readiness: readinessAfter(status, change, current),
        updated_at: this.parts.now(),
      });
      if (patch.env !== undefined) this.statements.setEnv.run({ id, env: sealEnv(this.parts.dataKey, patch.env) });
      this.statements.insertHistory.run(id, status, entry.message, entry.nodeId, at, change.messageId ?? null, id);
      return true;
    })();
    if (!applied) return undefined;
    const changed = this.reload(id);
    this.parts.cache.appendHistory(entry);
    return changed;
  }

  /** Every status the deployment went through, oldest first (a frozen list). */
  history(id: string): readonly StatusHistoryEntry[] {
    return this.parts.cache.historyOf(id);
  }

  /**
   * The histories of many deployments (every one's without `ids`), oldest entry first; every id
   * asked for has a list, empty for an unknown id. The histories were read in one query when the
   * store first needed them and are kept in step since, so listing N deployments with their
   * histories costs no query at all, let alone N.
   */
  histories(ids?: readonly string[]): Map<string, readonly StatusHistoryEntry[]> {
    const wanted = ids ?? this.parts.cache.listDeployments().map((d) => d.id);
    return new Map(wanted.map((id) => [id, this.parts.cache.historyOf(id)]));
  }

  /** Turns redeploying on new commits of the branch on or off; the branch watcher reads it each round. */
  setWatch(id: string, watch: boolean): DeploymentRecord {
    this.require(id);
    this.statements.setWatch.run({ id, watch: watch ? 1 : 0, updated_at: this.parts.now() });
    return this.reload(id);
  }

  /** Replaces a deployment's environment without a status change (kept for its next deploy). */
  setEnv(id: string, env: Record<string, string>): DeploymentRecord {
    this.require(id);
    this.statements.setEnv.run({ id, env: sealEnv(this.parts.dataKey, env) });
    return this.reload(id);
  }

  updateStats(id: string, stats: StatsUpdate): void {
    const { changes } = this.statements.updateStats.run({
      id,
      cpu_percent: stats.cpuPercent,
      mem_mb: stats.memMb,
      max_mem_mb: stats.maxMemMb,
      image_size_mb: stats.imageSizeMb ?? null,
      stats_at: stats.at ?? this.parts.now(),
    });
    if (changes > 0) this.reload(id);
  }

  /**
   * Seals what a store from before sealing existed holds in clear: env values, and git credentials
   * still inside their URL. The leader runs it once its changes reach the standbys, so their copies
   * are sealed by the same statements. Returns how many deployments it sealed.
   */
  sealClearSecrets(): number {
    const { dataKey } = this.parts;
    const rows = this.statements.secretColumns.all() as (SealedDeploymentColumns & { id: string })[];
    const clear = rows.filter((row) => !isSealed(row.env) || splitCredentials(row.src_url).credentials !== null);
    if (clear.length === 0) return 0;
    this.parts.changes.transaction(() => {
      for (const row of clear) {
        const { srcUrl, env } = openDeployment(dataKey, row);
        this.statements.sealSecretColumns.run({ id: row.id, ...sealDeployment(dataKey, srcUrl, env) });
      }
    })();
    this.parts.cache.clear();
    return clear.length;
  }

  /** Reads a deployment back after a write and hands the committed row to the cache. */
  private reload(id: string): DeploymentRecord {
    const row = this.statements.get.get(id) as DeploymentRow | undefined;
    if (row === undefined) throw new KrakenError(ErrorCode.NotFound, `no deployment with id ${id}`, { deploymentId: id });
    return this.parts.cache.putDeployment(toDeployment(row, this.parts.dataKey));
  }
}
