import type Database from 'better-sqlite3';
import type { LogLine } from '@kraken/messages';
import type { ChangeLog } from './change-log.js';
import type { LogCounters, StoredLogLine } from './records.js';

export interface AppendLogsOptions {
  /** The deploy.log batch seq; a jump counts the batches lost in between. */
  batchSeq?: number;
  /** Lines the sender says it dropped since its previous batch. */
  senderDropped?: number;
}

export interface AppendLogsResult {
  lines: StoredLogLine[];
  /** Batches found missing by this append (0 normally). */
  newGaps: number;
}

interface LogCounterRow {
  last_seq: number;
  dropped: number;
  sender_dropped: number;
  batch_gaps: number;
  last_batch_seq: number | null;
}

function prepare(db: { prepare(sql: string): Database.Statement }) {
  return {
    ensureCounters: db.prepare('INSERT OR IGNORE INTO log_counters (deployment_id) VALUES (?)'),
    counters: db.prepare('SELECT * FROM log_counters WHERE deployment_id = ?'),
    updateCounters: db.prepare(`UPDATE log_counters SET last_seq = @last_seq, dropped = @dropped, sender_dropped = @sender_dropped,
      batch_gaps = @batch_gaps, last_batch_seq = @last_batch_seq WHERE deployment_id = @deployment_id`),
    deleteCounters: db.prepare('DELETE FROM log_counters WHERE deployment_id = ?'),
    insert: db.prepare('INSERT INTO logs (deployment_id, seq, stream, text, at, release) VALUES (?, ?, ?, ?, ?, ?)'),
    trim: db.prepare('DELETE FROM logs WHERE deployment_id = ? AND seq <= ?'),
    read: db.prepare('SELECT seq, stream, text, at, release FROM logs WHERE deployment_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    readRelease: db.prepare('SELECT seq, stream, text, at, release FROM logs WHERE deployment_id = ? AND release = ? AND seq > ? ORDER BY seq LIMIT ?'),
    delete: db.prepare('DELETE FROM logs WHERE deployment_id = ?'),
  };
}

/**
 * Each deployment's log lines under consecutive seqs, bounded to `maxLines` per deployment, with
 * the counts of what was lost on the way: trimmed by the bound, dropped by the sender, batches
 * that never arrived. Part of the orchestrator's store (`store.logs`): its writes go through the
 * store's change log.
 */
export class LogTable {
  private readonly statements: ReturnType<typeof prepare>;

  constructor(
    db: { prepare(sql: string): Database.Statement },
    private readonly changes: ChangeLog,
    private readonly maxLines: number,
    /** The deployment's current release, which its new lines are stored under. */
    private readonly currentRelease: (deploymentId: string) => number,
  ) {
    this.statements = prepare(db);
  }

  /**
   * Stores a batch of lines under consecutive seqs and trims the deployment's log to the bound,
   * counting what it drops, all in one transaction.
   */
  append(deploymentId: string, lines: readonly LogLine[], options: AppendLogsOptions = {}): AppendLogsResult {
    return this.changes.transaction((): AppendLogsResult => {
      this.statements.ensureCounters.run(deploymentId);
      const counters = this.statements.counters.get(deploymentId) as LogCounterRow;
      let newGaps = 0;
      const { batchSeq } = options;
      // a seq at or below the last one means the sender restarted its numbering: not a loss
      if (batchSeq !== undefined && counters.last_batch_seq !== null && batchSeq > counters.last_batch_seq + 1) newGaps = batchSeq - counters.last_batch_seq - 1;
      const release = this.currentRelease(deploymentId);
      const stored: StoredLogLine[] = lines.map((line, index) => ({
        deploymentId,
        seq: counters.last_seq + index + 1,
        stream: line.stream,
        text: line.text,
        at: line.at,
        release,
      }));
      for (const line of stored) this.statements.insert.run(deploymentId, line.seq, line.stream, line.text, line.at, release);
      const lastSeq = counters.last_seq + lines.length;
      const trimmed = this.statements.trim.run(deploymentId, lastSeq - this.maxLines).changes;
      this.statements.updateCounters.run({
        deployment_id: deploymentId,
        last_seq: lastSeq,
        dropped: counters.dropped + trimmed,
        sender_dropped: counters.sender_dropped + (options.senderDropped ?? 0),
        batch_gaps: counters.batch_gaps + newGaps,
        last_batch_seq: batchSeq ?? counters.last_batch_seq,
      });
      return { lines: stored, newGaps };
    })();
  }

  /** Lines with seq > `after`, oldest first; with `release`, only the lines stored while it was current. */
  read(deploymentId: string, options: { after?: number; limit?: number; release?: number } = {}): StoredLogLine[] {
    const after = options.after ?? 0;
    const limit = options.limit ?? 1000;
    const rows = (
      options.release === undefined ? this.statements.read.all(deploymentId, after, limit) : this.statements.readRelease.all(deploymentId, options.release, after, limit)
    ) as { seq: number; stream: string; text: string; at: string; release: number | null }[];
    return rows.map((row) => ({
      deploymentId,
      seq: row.seq,
      stream: row.stream as StoredLogLine['stream'],
      text: row.text,
      at: row.at,
      release: row.release ?? 1,
    }));
  }

  counters(deploymentId: string): LogCounters {
    const row = this.statements.counters.get(deploymentId) as LogCounterRow | undefined;
    return { dropped: row?.dropped ?? 0, senderDropped: row?.sender_dropped ?? 0, batchGaps: row?.batch_gaps ?? 0 };
  }

  /** Removes a deployment's lines; seqs keep counting up, so a reader's `after` stays valid. */
  delete(deploymentId: string): number {
    return this.statements.delete.run(deploymentId).changes;
  }

  /** Removes a deployment's lines and counters (a purged deployment), inside the caller's transaction. */
  forget(deploymentId: string): void {
    this.statements.delete.run(deploymentId);
    this.statements.deleteCounters.run(deploymentId);
  }
}
