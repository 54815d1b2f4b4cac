import type Database from 'better-sqlite3';
import { ErrorCode, KrakenError } from '@kraken/common';

/** One statement a committed write ran, with its parameters, to run again on a copy of the store. */
export interface RecordedStatement {
  sql: string;
  /** As given to better-sqlite3's run(): positional values, or one object of named values. */
  params: unknown[];
}

/**
 * One committed transaction of the store. Numbered without gaps from 1: a copy applies them in
 * order, and a missing number means it must start again from a snapshot.
 */
export interface Changeset {
  seq: number;
  statements: RecordedStatement[];
}

/** The store's setting that counts committed changesets (itself written in each one, so copies carry it). */
export const CHANGE_SEQ_KEY = 'change_seq';

/**
 * Records what the store writes, transaction by transaction, so that standbys can keep a live copy
 * by running the same statements in the same order (the store's SQL is deterministic: times and ids
 * are parameters, never `now()` or `random()` in SQL). Write statements go through `statement()`;
 * transactions through `transaction()`; a write outside a transaction gets one of its own.
 */
export class ChangeLog {
  private recorded: RecordedStatement[] = [];
  private depth = 0;
  private readonly listeners = new Set<(changeset: Changeset) => void>();
  private readonly setSeq: Database.Statement;
  private readonly getSeq: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.setSeq = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.getSeq = db.prepare('SELECT value FROM settings WHERE key = ?');
  }

  /** The last committed changeset's number (0 for a store that never changed). */
  get seq(): number {
    const row = this.getSeq.get(CHANGE_SEQ_KEY) as { value: string } | undefined;
    return row === undefined ? 0 : Number(row.value);
  }

  /** Told of every committed changeset, after the commit. */
  onCommit(listener: (changeset: Changeset) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A statement whose run() is recorded; reads pass through untouched. */
  statement(prepared: Database.Statement): Database.Statement {
    if (prepared.reader) return prepared;
    const run = (target: Database.Statement, params: unknown[]) => this.run(target, params);
    return new Proxy(prepared, {
      get(target, property) {
        if (property === 'run') return (...params: unknown[]) => run(target, params);
        // native methods must be called on the statement itself, not on this proxy
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** Like db.transaction(fn): one changeset for everything `fn` writes, numbered and emitted at commit. */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    const inner = this.db.transaction((...args: A): R => {
      const result = fn(...args);
      // the outermost transaction numbers what it wrote, in the same commit
      if (this.depth === 1 && this.recorded.length > 0) this.recordRun(this.setSeq, [CHANGE_SEQ_KEY, String(this.seq + 1)]);
      return result;
    });
    return (...args: A): R => {
      if (this.depth === 0) this.recorded = [];
      // a nested transaction that fails is rolled back to its savepoint: so are its statements here
      const mark = this.recorded.length;
      this.depth++;
      let result: R;
      try {
        result = inner(...args);
      } catch (error) {
        this.depth--;
        this.recorded.length = mark;
        throw error;
      }
      this.depth--;
      if (this.depth === 0 && this.recorded.length > 0) this.emit();
      return result;
    };
  }

  /**
   * Runs a changeset from the leader on this (standby) store, in one transaction. Returns false for
   * one applied already; fails for a gap (the copy must start again from a snapshot).
   */
  apply(changeset: Changeset, prepare: (sql: string) => Database.Statement): boolean {
    const current = this.seq;
    if (changeset.seq <= current) return false;
    if (changeset.seq !== current + 1) {
      throw new KrakenError(ErrorCode.Conflict, `changeset ${changeset.seq} does not follow ${current}: this copy missed changes and needs a new snapshot`);
    }
    this.db.transaction(() => {
      for (const { sql, params } of changeset.statements) prepare(sql).run(...params);
    })();
    return true;
  }

  private run(statement: Database.Statement, params: unknown[]): Database.RunResult {
    if (this.depth > 0) return this.recordRun(statement, params);
    return this.transaction(() => this.recordRun(statement, params))();
  }

  private recordRun(statement: Database.Statement, params: unknown[]): Database.RunResult {
    const result = statement.run(...params);
    this.recorded.push({ sql: statement.source, params });
    return result;
  }

  private emit(): void {
    const changeset: Changeset = { seq: this.seq, statements: this.recorded };
    this.recorded = [];
    for (const listener of this.listeners) listener(changeset);
  }
}
