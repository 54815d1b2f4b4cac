/**
 * The environment editor's rows and the change they make. Values are write-only: a stored
 * variable's row starts empty, and only a value typed into it changes it. Names are checked by the
 * API (the rule of @kraken/messages), whose error the editor shows.
 */
export interface EnvRow {
  key: string;
  name: string;
  /** What was typed: empty means "unchanged" for a stored variable. */
  value: string;
  /** Stored already (its name is fixed; it can be changed or removed). */
  stored: boolean;
  removed: boolean;
}

export interface EnvChange {
  set: { name: string; value: string }[];
  unset: string[];
}

export function rowsOf(env: readonly { name: string }[]): EnvRow[] {
  return env.map(({ name }) => ({ key: `stored-${name}`, name, value: '', stored: true, removed: false }));
}

export function envChangeOf(rows: readonly EnvRow[]): EnvChange {
  const set: EnvChange['set'] = [];
  const unset: string[] = [];
  for (const row of rows) {
    if (row.stored && row.removed) unset.push(row.name);
    else if (row.stored && row.value !== '') set.push({ name: row.name, value: row.value });
    // a new row left blank is no variable; one with a value but no name goes to the API, which says what is wrong
    else if (!row.stored && !row.removed && (row.name.trim() !== '' || row.value !== '')) set.push({ name: row.name.trim(), value: row.value });
  }
  return { set, unset };
}

export function isEmptyChange(change: EnvChange): boolean {
  return change.set.length === 0 && change.unset.length === 0;
}

/** What saving does for a deployment in this status, or why it cannot. */
export function saveEffect(status: string): { allowed: true; label: string } | { allowed: false; why: string } {
  if (status === 'RUNNING') return { allowed: true, label: 'Save and restart' };
  if (status === 'ERRORED') return { allowed: true, label: 'Save for the next deploy' };
  if (status === 'DESTROYED') return { allowed: false, why: 'The deployment is destroyed' };
  return { allowed: false, why: 'Settings can change once the deploy in progress ends' };
}
