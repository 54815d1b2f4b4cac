import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, noopLogger, redactCredentials } from '@kraken/common';
import type { DeploymentStatus } from '@kraken/messages';
import { DeploymentStatus as Status } from '@kraken/messages';
import type { Clock } from '@kraken/common';
import { isoTime, systemClock } from '@kraken/common';
import { migrate, migrations } from './migrations.js';
import type { Changeset } from './change-log.js';
import { CHANGE_SEQ_KEY, ChangeLog } from './change-log.js';
import type { ClusterSecrets } from '../secrets.js';
import type { DataKey } from '../data-key.js';
import { isSealed } from '../data-key.js';
import type { SealedDeploymentColumns } from './sealed-columns.js';
import { SealContext, checkDataKey, openDeployment, sealDeployment, sealEnv, splitCredentials } from './sealed-columns.js';

const CLUSTER_SECRETS_KEY = 'cluster_secrets';
import { LogTable } from './log-table.js';
import { NodeTable } from './node-table.js';
import { PendingStops } from './pending-stops.js';
import { ReadCache } from './read-cache.js';
import type {
  DeploymentRecord,
  NewDeployment,
  StatusChange,
  StatusHistoryEntry,
} from './records.js';
import { isDamaged, moveAside, ownerOnly, resolveFile } from './store-file.js';
import { readinessAfter, restartsAfter, toDeployment, toHistoryEntry } from './rows.js';
import type { DeploymentRow, HistoryRow } from './rows.js';

export interface OrchestratorStoreOptions {
  /** Directory for `orchestrator.db` (created if missing). Give this or `file`. */
  dataDir?: string;
  /** The database file itself. */
  file?: string;
  /**
   * Seals the secrets the store keeps (env values, git credentials, the cluster's tokens): the
   * cluster's data key, from the secrets file (never from the store itself). A key that does not
   * open what the database holds is refused at open.
   */
  dataKey: DataKey;
  /** @default noopLogger */
  logger?: Logger;
  /** @default the system clock */
  clock?: Clock;
  /** Log lines kept per deployment; older ones are dropped and counted. @default 10_000 */
  maxLogLinesPerDeployment?: number;
}

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

const EPOCH_KEY = 'epoch';

/**
 * The orchestrator's durable state in one SQLite file.
 *
 * Durability: WAL with `synchronous = FULL`, so every committed transaction is on disk (fsynced)
 * before the call returns. The orchestrator acks a broker message only after the store call
 * returns, so every accepted mutation is written before it is acknowledged, even across a power
 * cut. NORMAL would be faster but may lose the last commits on power loss, after RabbitMQ has
 * already forgotten the message: a status change would be lost for good. The volume is small
 * (status changes, heartbeats, log batches in one transaction each), so FULL costs little.
 *
 * Reads of deployments, histories and nodes come from memory (ReadCache), kept in step after each
 * committed write: one process owns a database, and another process writing to the same file
 * would not be seen. Records handed out are frozen; a change replaces them.
 */
export class OrchestratorStore implements Disposable {
  readonly file: string;
  readonly schemaVersion: number;
  private readonly db: Database.Database;
  private readonly clock: Clock;
  /** Each deployment's log lines, bounded, and the counts of what was dropped. */
  readonly logs: LogTable;
  /** The nodes known, each with its last node.info and its state. */
  readonly nodes: NodeTable;
  /** Deployments moved away from a dead node, which it must stop when it comes back. */
  readonly pendingStops: PendingStops;
  private readonly statements: ReturnType<typeof prepare>;
  /** What each committed write ran, for standbys that keep a live copy. */
  readonly changes: ChangeLog;
  private readonly applyCache = new Map<string, Database.Statement>();
  private readonly cache: ReadCache;
  private closed = false;

  private readonly dataKey: DataKey;

  private constructor(db: Database.Database, file: string, schemaVersion: number, clock: Clock, maxLogLines: number, dataKey: DataKey) {
    this.db = db;
    this.dataKey = dataKey;
    this.file = file;
    this.schemaVersion = schemaVersion;
    this.clock = clock;
    this.changes = new ChangeLog(db);
    const changes = this.changes;
    // every write goes through the change log, so standbys that keep a live copy replay it
    const recording = { prepare: (sql: string) => changes.statement(db.prepare(sql)) };
    this.statements = prepare(recording);
    this.logs = new LogTable(recording, changes, maxLogLines, (deploymentId) => this.currentRelease(deploymentId));
    const statements = this.statements;
    this.cache = new ReadCache({
      deployments: () => (statements.listDeployments.all() as DeploymentRow[]).map((row) => toDeployment(row, dataKey)),
      histories: () => (statements.allHistories.all() as HistoryRow[]).map(toHistoryEntry),
      nodes: () => this.nodes.readAll(),
    });
    this.nodes = new NodeTable(recording, this.cache, () => this.now());
    this.pendingStops = new PendingStops(recording, () => this.now());
  }

  /** Opens (creating if needed) and migrates the database. Throws KrakenError naming the file. */
  static open(options: OrchestratorStoreOptions): OrchestratorStore {
    const file = resolveFile(options);
    const clock = options.clock ?? systemClock;
    const logger = (options.logger ?? noopLogger).child({ component: 'orchestrator-store' });
    const maxLogLines = options.maxLogLinesPerDeployment ?? 10_000;
    if (!Number.isInteger(maxLogLines) || maxLogLines < 1) {
      throw new KrakenError(
        ErrorCode.InvalidConfig,
        `maxLogLinesPerDeployment must be a positive integer, got ${String(maxLogLines)}`,
      );
    }
    // SQLite says only "unable to open database file" for a directory in the database's place
    if (statSync(file, { throwIfNoEntry: false })?.isDirectory() === true) {
      throw new KrakenError(
        ErrorCode.InvalidConfig,
        `orchestrator database ${file} is a directory, not a database file: move it aside (the database is created there) or use another data dir`,
      );
    }
    let db: Database.Database;
    try {
      if (file !== ':memory:') ownerOnly(file);
      db = new Database(file);
    } catch (error) {
      // not Unavailable: nothing here is out of reach for a while; the file or its folder is wrong
      throw new KrakenError(ErrorCode.InvalidConfig, `cannot open orchestrator database ${file}: ${describe(error)} (check that this user may read and write it and its folder)`, {
        cause: error,
      });
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      // a row rewritten (a clear env sealed, a value changed) leaves no old copy in the page it
      // leaves behind; FAST does it where the page is written anyway, at no extra I/O
      db.pragma('secure_delete = FAST');
      const version = migrate(db, migrations, file, () => isoTime(clock));
      checkDataKey(db, options.dataKey, file, CLUSTER_SECRETS_KEY);
      logger.info('orchestrator database open', { file, schemaVersion: version });
      return new OrchestratorStore(db, file, version, clock, maxLogLines, options.dataKey);
    } catch (error) {
      db.close();
      if (file !== ':memory:' && isDamaged(error)) {
        // never silently replaced: the damaged file is kept, and the log names it
        const aside = moveAside(file, isoTime(clock));
        logger.error('the orchestrator database is damaged: moved it aside and starting with an empty one; apps the nodes report running are adopted, the rest of the state recorded before is only in the moved file', {
          file,
          movedTo: aside,
          error: describe(error),
        });
        return OrchestratorStore.open(options);
      }
      if (error instanceof KrakenError) throw error;
      throw new KrakenError(ErrorCode.Internal, `cannot prepare orchestrator database ${file}: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  // ---- deployments ----

  /** The id of the deployment (not destroyed, not removed) that has `name`, if any. */
  liveDeploymentNamed(name: string): string | undefined {
    const row = this.statements.liveNamed.get(name) as { id: string } | undefined;
    return row?.id;
  }

  /** Inserts a deployment in DeploymentRequested, with its first history entry. */
  createDeployment(input: NewDeployment): DeploymentRecord {
    const now = this.now();
    this.changes.transaction(() => {
      if (this.statements.getDeployment.get(input.id) !== undefined) {
        throw new KrakenError(ErrorCode.Conflict, `deployment ${input.id} already exists`, { deploymentId: input.id });
      }
      const holder = input.name == null ? undefined : this.liveDeploymentNamed(input.name);
      if (holder !== undefined) {
        throw new KrakenError(ErrorCode.Conflict, `the name ${String(input.name)} is taken by deployment ${holder}; choose another`, {
          deploymentId: input.id,
          details: { field: 'name' },
        });
      }
      this.statements.insertDeployment.run({
        id: input.id,
        ...sealDeployment(this.dataKey, input.srcUrl, input.env ?? {}),
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
    const created = this.reloadDeployment(input.id);
    this.cache.appendHistory({
      deploymentId: input.id,
      status: Status.DeploymentRequested,
      message: null,
      nodeId: null,
      at: now,
      release: 1,
    });
    return created;
  }

  /** Records are frozen snapshots: a change replaces them. */
  getDeployment(id: string): DeploymentRecord | undefined {
    return this.cache.getDeployment(id);
  }

  /** Like getDeployment, but a missing deployment is a NOT_FOUND error. */
  requireDeployment(id: string): DeploymentRecord {
    const found = this.getDeployment(id);
    if (found === undefined) throw new KrakenError(ErrorCode.NotFound, `no deployment with id ${id}`, { deploymentId: id });
    return found;
  }

  /**
   * All deployments (oldest first), or those placed on one node. Removed ones are left out unless
   * asked for: nothing but the retention cleanup (and an export) has business with them.
   */
  listDeployments(filter: { nodeId?: string; includeRemoved?: boolean } = {}): DeploymentRecord[] {
    const { nodeId, includeRemoved = false } = filter;
    return this.cache.listDeployments().filter((d) => (includeRemoved || d.removedAt === null) && (nodeId === undefined || d.nodeId === nodeId));
  }

  /**
   * Marks a Destroyed or Errored deployment removed (the caller checks the status): it leaves the
   * lists and frees its name. Removing one already removed changes nothing.
   */
  markRemoved(id: string): DeploymentRecord {
    const current = this.requireDeployment(id);
    if (current.removedAt !== null) return current;
    this.statements.markRemoved.run({ id, removed_at: this.now() });
    return this.reloadDeployment(id);
  }

  /**
   * Deletes the deployments removed at or before `before` (ISO time) with their history, logs and
   * log counters, in one transaction; returns their ids.
   */
  purgeRemoved(before: string): string[] {
    const ids = this.listDeployments({ includeRemoved: true })
      .filter((d) => d.removedAt !== null && d.removedAt <= before)
      .map((d) => d.id);
    if (ids.length === 0) return ids;
    this.changes.transaction(() => {
      for (const id of ids) {
        this.logs.forget(id);
        this.pendingStops.forget(id);
        // the history goes with it (ON DELETE CASCADE)
        this.statements.deleteDeployment.run(id);
      }
    })();
    // rare: reading everything again is simpler than taking rows out of each map
    this.cache.clear();
    return ids;
  }

  /**
   * Sets the status (and any fields that go with it) and appends it to the history, in one
   * transaction. Returns undefined when `change.messageId` was already recorded (a redelivery).
   */
  setStatus(
    id: string,
    status: DeploymentStatus,
    change: StatusChange = {},
    patch: DeploymentPatch = {},
  ): DeploymentRecord | undefined {
    const at = change.at ?? this.now();
    // a message may quote a git URL (a failed ls-remote): its credentials are not kept
    const message = change.message == null ? null : redactCredentials(change.message);
    const entry: StatusHistoryEntry = {
      deploymentId: id,
      status,
      message,
      nodeId: change.nodeId ?? null,
      at,
      release: 1,
    };
    const applied = this.changes.transaction((): boolean => {
      entry.release = this.currentRelease(id);
      const current = this.requireDeployment(id);
      if (change.messageId !== undefined && this.statements.historyByMessageId.get(change.messageId) !== undefined) return false;
      this.statements.updateDeployment.run({
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
        updated_at: this.now(),
      });
      if (patch.env !== undefined) this.statements.setEnv.run({ id, env: sealEnv(this.dataKey, patch.env) });
      this.statements.insertHistory.run(id, status, entry.message, entry.nodeId, at, change.messageId ?? null, id);
      return true;
    })();
    if (!applied) return undefined;
    const changed = this.reloadDeployment(id);
    this.cache.appendHistory(entry);
    return changed;
  }

  /** Every status the deployment went through, oldest first (a frozen list). */
  statusHistory(id: string): readonly StatusHistoryEntry[] {
    return this.cache.historyOf(id);
  }

  /**
   * The histories of many deployments (every one's without `ids`), oldest entry first; every id
   * asked for has a list, empty for an unknown id. The histories were read in one query when the
   * store first needed them and are kept in step since, so listing N deployments with their
   * histories costs no query at all, let alone N.
   */
  statusHistories(ids?: readonly string[]): Map<string, readonly StatusHistoryEntry[]> {
    const wanted = ids ?? this.cache.listDeployments().map((d) => d.id);
    return new Map(wanted.map((id) => [id, this.cache.historyOf(id)]));
  }

  /** Turns redeploying on new commits of the branch on or off; the branch watcher reads it each round. */
  setWatch(id: string, watch: boolean): DeploymentRecord {
    this.requireDeployment(id);
    this.statements.setWatch.run({ id, watch: watch ? 1 : 0, updated_at: this.now() });
    return this.reloadDeployment(id);
  }

  /** Replaces a deployment's environment without a status change (kept for its next deploy). */
  setEnv(id: string, env: Record<string, string>): DeploymentRecord {
    this.requireDeployment(id);
    this.statements.setEnv.run({ id, env: sealEnv(this.dataKey, env) });
    return this.reloadDeployment(id);
  }

  updateStats(id: string, stats: StatsUpdate): void {
    const { changes } = this.statements.updateStats.run({
      id,
      cpu_percent: stats.cpuPercent,
      mem_mb: stats.memMb,
      max_mem_mb: stats.maxMemMb,
      image_size_mb: stats.imageSizeMb ?? null,
      stats_at: stats.at ?? this.now(),
    });
    if (changes > 0) this.reloadDeployment(id);
  }

  /** Reads a deployment back after a write and hands the committed row to the cache. */
  private reloadDeployment(id: string): DeploymentRecord {
    const row = this.statements.getDeployment.get(id) as DeploymentRow | undefined;
    if (row === undefined) throw new KrakenError(ErrorCode.NotFound, `no deployment with id ${id}`, { deploymentId: id });
    return this.cache.putDeployment(toDeployment(row, this.dataKey));
  }

  /**
   * Runs `read` inside one transaction: in WAL mode every read in it sees the same committed
   * state, so a caller can assemble a consistent snapshot from several queries (GET /export).
   */
  snapshot<T>(read: () => T): T {
    try {
      return this.changes.transaction(read)();
    } catch (error) {
      // writes made inside `read` were rolled back, but may already be in the cache
      this.cache.clear();
      throw error;
    }
  }

  // ---- releases ----

  /**
   * The deployment's latest release number: history rows and log lines are stored under it. A
   * deployment whose first release is not recorded yet (it is started right after the deployment
   * is created) is at release 1.
   */
  currentRelease(deploymentId: string): number {
    const row = this.statements.currentRelease.get(deploymentId) as { number: number | null };
    return row.number ?? 1;
  }

  /**
   * Prepares a statement on this store whose writes are recorded for standbys (like the store's
   * own), for modules that keep their own tables here (releases). Group writes with
   * `changes.transaction`.
   */
  prepareRecorded(sql: string): Database.Statement {
    return this.changes.statement(this.db.prepare(sql));
  }

  // ---- copies ----

  /**
   * Writes a consistent copy of the whole store to `file` (SQLite's online backup: writers carry on
   * meanwhile) and returns the changeset number it holds: a standby starts from there.
   */
  async backupTo(file: string): Promise<number> {
    await this.db.backup(file);
    const copy = new Database(file, { readonly: true });
    try {
      const row = copy.prepare('SELECT value FROM settings WHERE key = ?').get(CHANGE_SEQ_KEY) as { value: string } | undefined;
      return row === undefined ? 0 : Number(row.value);
    } finally {
      copy.close();
    }
  }

  /**
   * Runs a changeset of the leader's store on this copy (a standby's). False for one applied
   * already; a KrakenError (Conflict) for a gap: the copy needs a new snapshot.
   */
  applyChangeset(changeset: Changeset): boolean {
    const applied = this.changes.apply(changeset, (sql) => {
      let statement = this.applyCache.get(sql);
      if (statement === undefined) {
        statement = this.db.prepare(sql);
        this.applyCache.set(sql, statement);
      }
      return statement;
    });
    // what the cache holds came from before
    if (applied) this.cache.clear();
    return applied;
  }

  // ---- settings ----

  /**
   * Keeps the cluster's secrets in the store (sealed), so a standby's copy has them when it takes
   * over. Written again only when they changed (or were kept in clear before sealing existed).
   */
  keepClusterSecrets(secrets: ClusterSecrets): void {
    const value = JSON.stringify({ apiToken: secrets.apiToken, joinToken: secrets.joinToken, clusterId: secrets.clusterId });
    const current = this.statements.getSetting.get(CLUSTER_SECRETS_KEY) as { value: string } | undefined;
    if (current !== undefined && isSealed(current.value) && this.dataKey.open(current.value, SealContext.clusterSecrets) === value) return;
    this.statements.setSetting.run(CLUSTER_SECRETS_KEY, this.dataKey.seal(value, SealContext.clusterSecrets));
  }

  /** The cluster's secrets as the leader kept them, on a standby's copy. */
  clusterSecrets(): ClusterSecrets | undefined {
    const row = this.statements.getSetting.get(CLUSTER_SECRETS_KEY) as { value: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(this.dataKey.open(row.value, SealContext.clusterSecrets)) as ClusterSecrets);
  }

  /**
   * Seals what a store from before sealing existed holds in clear: env values, and git credentials
   * still inside their URL. The leader runs it once its changes reach the standbys, so their copies
   * are sealed by the same statements. Returns how many deployments it sealed.
   */
  sealClearSecrets(): number {
    const rows = this.statements.secretColumns.all() as (SealedDeploymentColumns & { id: string })[];
    const clear = rows.filter((row) => !isSealed(row.env) || splitCredentials(row.src_url).credentials !== null);
    if (clear.length === 0) return 0;
    this.changes.transaction(() => {
      for (const row of clear) {
        const { srcUrl, env } = openDeployment(this.dataKey, row);
        this.statements.sealSecretColumns.run({ id: row.id, ...sealDeployment(this.dataKey, srcUrl, env) });
      }
    })();
    this.cache.clear();
    return clear.length;
  }

  /** The leader term: bumped and persisted each time an orchestrator starts on this store. */
  nextEpoch(): number {
    return this.changes.transaction((): number => {
      const next = this.currentEpoch() + 1;
      this.statements.setSetting.run(EPOCH_KEY, String(next));
      return next;
    })();
  }

  currentEpoch(): number {
    const row = this.statements.getSetting.get(EPOCH_KEY) as { value: string } | undefined;
    return row === undefined ? 0 : Number(row.value);
  }

  /**
   * Folds the WAL into the database file before closing, so that `orchestrator.db` alone (a backup,
   * a copy to another machine) holds every commit. SQLite does this on the last close by itself,
   * but not while another connection (a snapshot copy in progress) still has the file open.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private now(): string {
    return isoTime(this.clock);
  }
}

function prepare(db: { prepare(sql: string): Database.Statement }) {
  return {
    insertDeployment: db.prepare(`INSERT INTO deployments
      (id, src_url, src_credentials, branch, commit_sha, version, status, env, watch, runtime, memory_mb, name, created_at, updated_at)
      VALUES (@id, @src_url, @src_credentials, @branch, @commit_sha, @version, @status, @env, @watch, @runtime, @memory_mb, @name, @created_at, @created_at)`),
    getDeployment: db.prepare('SELECT * FROM deployments WHERE id = ?'),
    liveNamed: db.prepare(`SELECT id FROM deployments WHERE name = ? AND status <> 'Destroyed' AND removed_at IS NULL`),
    markRemoved: db.prepare('UPDATE deployments SET removed_at = @removed_at, updated_at = @removed_at WHERE id = @id'),
    deleteDeployment: db.prepare('DELETE FROM deployments WHERE id = ?'),
    listDeployments: db.prepare('SELECT * FROM deployments ORDER BY created_at, id'),
    updateDeployment: db.prepare(`UPDATE deployments SET status = @status, status_message = @status_message, node_id = @node_id,
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
        VALUES (?, ?, ?, ?, ?, ?, (SELECT CAST(value AS INTEGER) FROM settings WHERE key = '${EPOCH_KEY}'),
          (SELECT COALESCE(MAX(number), 1) FROM releases WHERE deployment_id = ?))`,
    ),
    historyByMessageId: db.prepare('SELECT 1 FROM deployment_status_history WHERE message_id = ?'),
    allHistories: db.prepare(
      'SELECT deployment_id, status, message, node_id, at, release FROM deployment_status_history ORDER BY deployment_id, id',
    ),
    currentRelease: db.prepare('SELECT MAX(number) AS number FROM releases WHERE deployment_id = ?'),
    getSetting: db.prepare('SELECT value FROM settings WHERE key = ?'),
    setSetting: db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
