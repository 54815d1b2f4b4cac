import type { StateChangeBody } from '@kraken/messages';
import type { Changeset, RecordedStatement } from '../store/change-log.js';

/** A changeset as a state.change body: each distinct statement once, the runs referring to it. */
export function changesetToBody(changeset: Changeset): StateChangeBody {
  const sql: string[] = [];
  const index = new Map<string, number>();
  const runs = changeset.statements.map(({ sql: text, params }): [number, StateChangeBody['runs'][number][1]] => {
    let at = index.get(text);
    if (at === undefined) {
      at = sql.push(text) - 1;
      index.set(text, at);
    }
    return [at, params as StateChangeBody['runs'][number][1]];
  });
  return { seq: changeset.seq, sql, runs };
}

export function bodyToChangeset(body: StateChangeBody): Changeset {
  const statements: RecordedStatement[] = body.runs.map(([at, params]) => {
    const sql = body.sql[at];
    if (sql === undefined) throw new Error(`state.change ${body.seq} refers to statement ${at} of ${body.sql.length}`);
    return { sql, params };
  });
  return { seq: body.seq, statements };
}
