import { TomlDate } from 'smol-toml';

/** A TOML value as an error message shows it: strings quoted, containers by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : `the number ${String(value)}`;
  if (typeof value === 'boolean') return String(value);
  if (value instanceof TomlDate) return `the date ${value.toISOString()}`;
  if (Array.isArray(value)) return 'an array';
  if (isTable(value)) return 'a table';
  return String(value);
}

/** `missing; must be X` or `must be X; got Y`, plus a hint for a number written in quotes. */
export function explain(requirement: string, input: unknown, options: { numeric?: boolean } = {}): string {
  if (input === undefined) return `missing; must be ${requirement}`;
  const quotedNumber =
    options.numeric === true && typeof input === 'string' && input.trim() !== '' && Number.isFinite(Number(input));
  const hint = quotedNumber ? ` (write the number without quotes)` : '';
  return `must be ${requirement}; got ${describeValue(input)}${hint}`;
}

/** A zod `error` option that words every failure of one field the same way. */
export function mustBe(
  requirement: string,
  options: { numeric?: boolean } = {},
): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => explain(requirement, issue.input, options) };
}

/** A TOML table as smol-toml returns it (a plain or null-prototype object). */
export function isTable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof TomlDate) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === null || proto === Object.prototype;
}
