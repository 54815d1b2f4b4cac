import { describeValue, isTable } from './describe.js';
import { envValueSchema } from './fields.js';
import type { SourceMap } from './source-map.js';

/** Names a POSIX shell can expand: what `[config.env]` accepts. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * The original Kraken passed `[env-vars]` names to Docker unchanged, and its own examples used
 * `test-var`; so that table also accepts '-' and '.' (the app reads them from its environment
 * object, not from shell `$NAME`).
 */
const LEGACY_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export interface EnvSource {
  /** Key path of the table: ['config', 'env'] or ['env-vars']. */
  readonly path: readonly string[];
  readonly value: unknown;
  readonly legacy: boolean;
}

interface Problems {
  add(path: readonly string[], message: string): void;
}

/**
 * Reads and merges the environment tables. A name set in both is refused rather than silently
 * preferring one: the user meant one value and should see which two disagree.
 */
export function readEnv(sources: readonly EnvSource[], source: SourceMap, problems: Problems): Record<string, string> {
  const env = new Map<string, { value: string; path: readonly string[] }>();
  for (const table of sources) {
    if (table.value === undefined) continue;
    if (!isTable(table.value)) {
      problems.add(table.path, `must be a table of NAME = "value" lines; got ${describeValue(table.value)}`);
      continue;
    }
    for (const [name, raw] of Object.entries(table.value)) {
      const path = [...table.path, name];
      const pattern = table.legacy ? LEGACY_NAME : NAME;
      if (!pattern.test(name)) {
        problems.add(path, invalidName(name, table.legacy));
        continue;
      }
      const parsed = envValueSchema.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) problems.add(path, issue.message);
        continue;
      }
      const earlier = env.get(name);
      if (earlier) {
        problems.add(path, `${name} is set in both ${place(earlier.path, source)} and ${place(path, source)}; keep one`);
        continue;
      }
      env.set(name, {
        value: asText(parsed.data, source.rawValueOf(path)),
        path,
      });
    }
  }
  return Object.fromEntries([...env].map(([name, { value }]) => [name, value]));
}

/** Numbers keep the digits written in the file (`1.50` stays "1.50"), not JavaScript's rendering. */
export function asText(value: string | number | boolean, raw: string | undefined): string {
  if (typeof value !== 'number') return String(value);
  const written = raw === undefined ? undefined : /^([+-]?\d+(?:\.\d+)?)\s*(?:#.*)?$/.exec(raw)?.[1];
  return written !== undefined && Number(written) === value ? written.replace(/^\+/, '') : String(value);
}

function invalidName(name: string, legacy: boolean): string {
  const allowed = legacy
    ? "letters, digits, '_', '-' and '.', not starting with a digit"
    : "letters, digits and '_', not starting with a digit";
  const fixed = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=\d)/, '_');
  const hint = fixed !== '' && fixed !== name ? ` (such as ${fixed})` : '';
  return `${JSON.stringify(name)} is not a valid environment variable name; use ${allowed}${hint}`;
}

function place(path: readonly string[], source: SourceMap): string {
  const table = `[${path.slice(0, -1).join('.')}]`;
  const line = source.exactLineOf(path);
  return line === undefined ? table : `${table} (line ${line})`;
}
