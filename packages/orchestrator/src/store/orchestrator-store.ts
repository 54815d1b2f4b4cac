import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Clock, Logger } from '@kraken/common';
import { ErrorCode, KrakenError, isoTime, noopLogger, systemClock } from '@kraken/common';
import type { ClusterSecrets } from '../secrets.js';
import type { DataKey } from '../data-key.js';
import { isSealed } from '../data-key.js';
import type { Changeset } from './change-log.js';
import { CHANGE_SEQ_KEY, ChangeLog } from './change-log.js';
import { DeploymentTable } from './deployment-table.js';
import { LogTable } from './log-table.js';
import { migrate, migrations } from './migrations.js';
import { NodeTable } from './node-table.js';
import { PendingStops } from './pending-stops.js';
import { ReadCache } from './read-cache.js';
import { toDeployment, toHistoryEntry } from './rows.js';
import type { DeploymentRow, HistoryRow } from './rows.js';
import { SealContext, checkDataKey } from './sealed-columns.js';
import { isDamaged, moveAside, ownerOnly, resolveFile } from './store-file.js';

export type { DeploymentPatch, StatsUpdate } from './deployment-table.js';

const CLUSTER_SECRETS_KEY = 'cluster_secrets';

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
  /** The deployments and their status histories. */
  readonly deployments: DeploymentTable;
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
    this.deployments = new DeploymentTable({
      db: recording,
      changes,
      cache: this.cache,
      dataKey,
      logs: this.logs,
      pendingStops: this.pendingStops,
      epochKey: EPOCH_KEY,
      currentRelease: (deploymentId) => this.currentRelease(deploymentId),
      now: () => this.now(),
    });
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
    const value = JSON.stringify({
      apiToken: secrets.apiToken,
      joinToken: secrets.joinToken,
      clusterId: secrets.clusterId,
      ...(secrets.ca === undefined ? {} : { ca: secrets.ca }),
    });
    const current = this.statements.getSetting.get(CLUSTER_SECRETS_KEY) as { value: string } | undefined;
    if (current !== undefined && isSealed(current.value) && this.dataKey.open(current.value, SealContext.clusterSecrets) === value) return;
    this.statements.setSetting.run(CLUSTER_SECRETS_KEY, this.dataKey.seal(value, SealContext.clusterSecrets));
  }

  /** The cluster's secrets as the leader kept them, on a standby's copy. */
  clusterSecrets(): ClusterSecrets | undefined {
    const row = this.statements.getSetting.get(CLUSTER_SECRETS_KEY) as { value: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(this.dataKey.open(row.value, SealContext.clusterSecrets)) as ClusterSecrets);
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
    listDeployments: db.prepare('SELECT * FROM deployments ORDER BY created_at, id'),
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
