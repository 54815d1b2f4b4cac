import type { z } from 'zod';

// Turning zod issues into one short line that names the field: "body.port: expected integer
// 1..65535, got "abc"". Inputs can be a megabyte, so nothing here echoes more than a sample.

const SAMPLE_CHARS = 100;
const FIELD_CHARS = 200;

/** Parse options for every schema in this package: our wording, and the input kept for samples. */
export const parseOptions = { error: expectationOf, reportInput: true } as const;

/**
 * Wording for the issues whose schemas carry no text of their own (mostly structure: a body that
 * is not an object, an array where a string belongs). Field schemas in fields.ts set their own.
 */
function expectationOf(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'int' ? 'integer' : issue.expected === 'nonoptional' ? 'a value' : issue.expected}`;
    case 'too_small':
      return `expected ${bound(issue.origin, issue.inclusive === false ? '>' : '>=', issue.minimum)}`;
    case 'too_big':
      return `expected ${bound(issue.origin, issue.inclusive === false ? '<' : '<=', issue.maximum)}`;
    case 'invalid_format':
      return `expected ${issue.format === 'regex' && issue.pattern !== undefined ? `a string matching ${issue.pattern}` : issue.format}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((value) => sample(value)).join(', ')}`;
    case 'invalid_key':
      return issue.issues[0]?.message ?? 'expected a valid key';
    default:
      return 'invalid value';
  }
}

function bound(origin: string, op: string, limit: number | bigint): string {
  const value = String(limit);
  if (origin === 'string') return `a string with ${op} ${value} characters`;
  if (origin === 'array') return `an array with ${op} ${value} items`;
  return `${origin} ${op} ${value}`;
}

export interface IssueSummary {
  /** Path of the first failing field ("body.lines[3].text"), undefined for the document itself. */
  field: string | undefined;
  /** One line: field, rule, sample of what was there, and how many other problems there were. */
  message: string;
}

/** `subject` names the document itself when the first problem is with it as a whole. */
export function summarizeIssues(issues: readonly z.core.$ZodIssue[], subject = 'message'): IssueSummary {
  const first = issues.at(0);
  if (first === undefined) return { field: undefined, message: 'invalid' };
  const field = first.path.length === 0 ? undefined : formatPath(first.path);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more ${issues.length === 2 ? 'problem' : 'problems'})` : '';
  return { field, message: `${field ?? subject}: ${describeIssue(first)}${more}` };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  // A missing key is reported as an invalid_type issue whose input is undefined.
  if (issue.code === 'invalid_type' && issue.input === undefined) return `missing (${issue.message})`;
  return `${issue.message}, got ${sample(issue.input)}`;
}

/** JavaScript-style path: identifiers as `.name`, array indices and other keys in brackets. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${sample(typeof key === 'symbol' ? key.toString() : key)}]`;
  }
  return truncate(out, FIELD_CHARS);
}

/** A short rendering of a value for an error message: strings cut to ~100 characters, containers summarised. */
export function sample(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > SAMPLE_CHARS ? `${value.slice(0, SAMPLE_CHARS)}…` : value);
  }
  if (Array.isArray(value)) return `an array of ${value.length} ${value.length === 1 ? 'item' : 'items'}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value;
}

export function truncate(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}
