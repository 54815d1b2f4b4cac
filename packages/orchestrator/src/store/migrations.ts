import type Database from 'better-sqlite3';
import { ErrorCode, KrakenError } from '@kraken/common';

export interface Migration {
  /** 1, 2, 3...: applied in order, each exactly once. */
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, as an append-only list: never edit a migration that has shipped, add the next one.
 * Column names are snake_case; the store maps them to the typed records.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE deployments (
        id               TEXT PRIMARY KEY,
        src_url          TEXT NOT NULL,
        branch           TEXT NOT NULL,
        commit_sha       TEXT,
        version          TEXT,
        port             INTEGER,
        node_id          TEXT,
        status           TEXT NOT NULL,
        status_message   TEXT,
        placement_reason TEXT,
        env              TEXT NOT NULL DEFAULT '{}',
        watch            INTEGER NOT NULL DEFAULT 0,
        runtime          TEXT NOT NULL DEFAULT 'docker',
        memory_mb        INTEGER,
        attempt          INTEGER NOT NULL DEFAULT 1,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        cpu_percent      REAL,
        mem_mb           REAL,
        max_mem_mb       REAL,
        image_size_mb    REAL,
        url              TEXT
      );
      CREATE INDEX deployments_by_node ON deployments (node_id);

      CREATE TABLE deployment_status_history (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
        status        TEXT NOT NULL,
        message       TEXT,
        node_id       TEXT,
        at            TEXT NOT NULL,
        -- the broker message that caused it: a redelivered status is recorded once
        message_id    TEXT UNIQUE
      );
      CREATE INDEX history_by_deployment ON deployment_status_history (deployment_id, id);

      CREATE TABLE nodes (
        id                     TEXT PRIMARY KEY,
        info                   TEXT NOT NULL,
        update_time            TEXT NOT NULL,
        state                  TEXT NOT NULL,
        orchestration_priority INTEGER
      );

      CREATE TABLE logs (
        deployment_id TEXT NOT NULL,
        seq           INTEGER NOT NULL,
        stream        TEXT NOT NULL,
        text          TEXT NOT NULL,
        at            TEXT NOT NULL,
        PRIMARY KEY (deployment_id, seq)
      ) WITHOUT ROWID;

      -- per deployment: the last line seq given out, lines dropped by the bound or by senders,
      -- and lost batches (gaps in deploy.log seq)
      CREATE TABLE log_counters (
        deployment_id   TEXT PRIMARY KEY,
        last_seq        INTEGER NOT NULL DEFAULT 0,
        dropped         INTEGER NOT NULL DEFAULT 0,
        sender_dropped  INTEGER NOT NULL DEFAULT 0,
        batch_gaps      INTEGER NOT NULL DEFAULT 0,
        last_batch_seq  INTEGER
      );

      -- deployments moved away from a node that died; it is told to stop them when it comes back
      CREATE TABLE pending_stops (
        deployment_id TEXT NOT NULL,
        node_id       TEXT NOT NULL,
        reason        TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        PRIMARY KEY (deployment_id, node_id)
      );

      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'when stats were last reported',
    sql: `ALTER TABLE deployments ADD COLUMN stats_at TEXT;`,
  },
  {
    version: 3,
    name: 'the leader term each status was recorded in',
    // audits that no former leader wrote after a newer one took over (NULL: recorded before this column)
    sql: `ALTER TABLE deployment_status_history ADD COLUMN epoch INTEGER;`,
  },
  {
    version: 4,
    name: "a running app's restarts",
    // JSON of the worker's AppRestarts (count, crash-looping, last exit); NULL until a worker reports it
    sql: `ALTER TABLE deployments ADD COLUMN restarts TEXT;`,
  },
  {
    version: 5,
    name: 'deployment names',
    // the ingress routes by name; a destroyed deployment's name is free again. Deployments made
    // before names existed are named by their id where it is a DNS label (ids are slugs, so most are)
    sql: `ALTER TABLE deployments ADD COLUMN name TEXT;
      UPDATE deployments SET name = id
        WHERE length(id) <= 63 AND id NOT GLOB '*[^a-z0-9-]*' AND id NOT GLOB '-*' AND id NOT GLOB '*-';
      CREATE UNIQUE INDEX deployments_live_name ON deployments (name) WHERE name IS NOT NULL AND status <> 'Destroyed';`,
  },
  {
    version: 6,
    name: 'removed deployments',
    // a removed (Destroyed or Errored) deployment leaves the lists and frees its name at once; its
    // row, history and logs stay readable by id until the retention ends, then the cleanup deletes them
    sql: `ALTER TABLE deployments ADD COLUMN removed_at TEXT;
      DROP INDEX deployments_live_name;
      CREATE UNIQUE INDEX deployments_live_name ON deployments (name)
        WHERE name IS NOT NULL AND status <> 'Destroyed' AND removed_at IS NULL;`,
  },
  {
    version: 7,
    name: 'releases',
    // Each build of a deployment is a release, numbered 1, 2, 3 per deployment. History rows and log
    // lines carry the release that was current when they were stored, so a release's timeline and log
    // are exactly its own rows (time bounds would mix the worker's clock with the orchestrator's, and
    // lose their meaning once the log bound trims old lines). Deployments from before get release 1,
    // holding everything recorded so far.
    sql: `CREATE TABLE releases (
        deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
        number        INTEGER NOT NULL,
        commit_sha    TEXT,
        trigger       TEXT NOT NULL,
        started_at    TEXT NOT NULL,
        ended_at      TEXT,
        result        TEXT NOT NULL,
        reason        TEXT,
        PRIMARY KEY (deployment_id, number)
      );
      ALTER TABLE deployment_status_history ADD COLUMN release INTEGER;
      ALTER TABLE logs ADD COLUMN release INTEGER;
      CREATE INDEX logs_by_release ON logs (deployment_id, release, seq);
      INSERT INTO releases (deployment_id, number, commit_sha, trigger, started_at, ended_at, result, reason)
        SELECT d.id, 1, d.commit_sha, 'recorded before releases', d.created_at,
          CASE WHEN ran.at IS NOT NULL THEN ran.at WHEN d.status IN ('Errored', 'Destroyed') THEN d.updated_at END,
          CASE WHEN ran.at IS NOT NULL THEN 'succeeded' WHEN d.status = 'Errored' THEN 'failed'
            WHEN d.status = 'Destroyed' THEN 'cancelled' ELSE 'building' END,
          CASE WHEN ran.at IS NULL AND d.status = 'Errored' THEN d.status_message END
        FROM deployments d LEFT JOIN (
          SELECT deployment_id, MIN(at) AS at FROM deployment_status_history WHERE status = 'Running' GROUP BY deployment_id
        ) ran ON ran.deployment_id = d.id;
      UPDATE deployment_status_history SET release = 1;
      UPDATE logs SET release = 1;`,
  },
  {
    version: 8,
    name: 'git credentials apart from the URL',
    // `user:password` of an https git URL, sealed with the cluster's data key (as env is): the URL
    // column keeps no secret. SQL cannot encrypt: the leader's next start seals rows from before
    // (OrchestratorStore.sealClearSecrets)
    sql: `ALTER TABLE deployments ADD COLUMN src_credentials TEXT;`,
  },
  {
    version: 9,
    name: "whether a running app answers",
    // JSON of the worker's AppReadiness (ready, since, reason); NULL until a worker reports it
    sql: `ALTER TABLE deployments ADD COLUMN readiness TEXT;`,
  },
];

/**
 * Brings `db` to the newest schema in `list`, one transaction per migration, and refuses a
 * database written by a newer Kraken (its schema would be half-understood). Returns the version.
 */
export function migrate(db: Database.Database, list: readonly Migration[], file: string, now: () => string): number {
  assertOrdered(list);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
  const current = row.version ?? 0;
  const latest = list.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new KrakenError(
      ErrorCode.UnsupportedVersion,
      `${file}: database schema version ${current} is newer than this orchestrator supports (up to ${latest}); ` +
        'run a newer Kraken, or point it at another data directory',
      { details: { file, schemaVersion: current, supportedVersion: latest } },
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of list) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, now());
    })();
  }
  return latest;
}

function assertOrdered(list: readonly Migration[]): void {
  list.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new KrakenError(
        ErrorCode.Internal,
        `migration "${migration.name}" has version ${migration.version}; versions must be 1, 2, 3... in order`,
      );
    }
  });
}
