import { z } from 'zod';

// Field schemas shared by the envelope and the bodies. Each carries its own "expected ..." text so
// that a rejected message names the rule it broke, not zod's generic wording.

/** Deployment and node ids: they become queue names, container labels and file names. */
export const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const ID_RULE = 'expected an id of 1-64 characters from [A-Za-z0-9._-]';

export const idSchema = z.string({ error: ID_RULE }).regex(ID_PATTERN, { error: ID_RULE });

/**
 * A deployment's name: one DNS label (RFC 1123, lower case), so that `<name>.local` and a Host
 * header `<name>` both carry it unchanged.
 */
export const DEPLOYMENT_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const DEPLOYMENT_NAME_RULE = 'expected 1-63 lower-case letters, digits or "-", not starting or ending with "-"';
export const deploymentNameSchema = z.string({ error: DEPLOYMENT_NAME_RULE }).regex(DEPLOYMENT_NAME_PATTERN, { error: DEPLOYMENT_NAME_RULE });

/** Wire times are UTC with a `Z`, as `Date#toISOString()` writes them, so they compare as strings. */
export const isoTimeSchema = z.iso.datetime({
  error: 'expected an ISO 8601 UTC time such as 2024-05-01T12:00:00.000Z',
});

export function intBetween(min: number, max: number) {
  const rule = `expected integer ${min}..${max}`;
  return z.int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
}

export function intAtLeast(min: number) {
  const rule = `expected integer >= ${min}`;
  return z.int({ error: rule }).min(min, { error: rule });
}

export function numberAtLeast(min: number) {
  const rule = `expected number >= ${min}`;
  return z.number({ error: rule }).min(min, { error: rule });
}

export function numberBetween(min: number, max: number) {
  const rule = `expected number ${min}..${max}`;
  return z.number({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
}

export function positiveNumber() {
  const rule = 'expected number > 0';
  return z.number({ error: rule }).positive({ error: rule });
}

/** Free text with a cap in characters; the message size limit bounds the sum. */
export function text(maxChars: number, { nonEmpty = false } = {}) {
  const rule = nonEmpty ? `expected a non-empty string of at most ${maxChars} characters` : `expected a string of at most ${maxChars} characters`;
  const schema = z.string({ error: rule }).max(maxChars, { error: rule });
  return nonEmpty ? schema.min(1, { error: rule }) : schema;
}

/** Text whose limit is in UTF-8 bytes (log lines): characters undercount multi-byte text. */
export function textBytes(maxBytes: number) {
  const rule = `expected a string of at most ${maxBytes} UTF-8 bytes`;
  return z
    .string({ error: rule })
    .max(maxBytes, { error: rule })
    .refine((value) => Buffer.byteLength(value, 'utf8') <= maxBytes, { error: rule });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.map((value) => JSON.stringify(value)).join(', ')}` });
}

function hasControlOrSpace(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return true;
  }
  return false;
}

const REMOTE_URL_PROTOCOLS: ReadonlySet<string> = new Set(['http:', 'https:', 'ssh:', 'git:']);
// scp-like syntax, as git accepts it: user@host:path (the user part keeps it apart from local paths).
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/).+$/;

/**
 * The remote is handed to `git clone`, so only transports git clones over are accepted: anything
 * else (`ext::`, a leading `-`) could run commands or inject options on the worker.
 */
export function isGitRemote(value: string): boolean {
  if (value.length === 0 || hasControlOrSpace(value)) return false;
  if (value.startsWith('/')) return value.length > 1;
  if (SCP_LIKE.test(value)) return true;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === 'file:') return url.pathname.length > 1;
  return REMOTE_URL_PROTOCOLS.has(url.protocol) && url.hostname !== '';
}

export const gitRemoteSchema = z
  .string({ error: 'expected a git remote' })
  .max(2048, { error: 'expected a git remote of at most 2048 characters' })
  .refine(isGitRemote, {
    error: 'expected a git remote: http(s)://, ssh://, git://, file://, user@host:path or an absolute path',
  });

/** The subset of `git check-ref-format` rules that matter for a branch name we pass to git. */
export function isBranchName(value: string): boolean {
  if (value.length === 0 || value.length > 255 || hasControlOrSpace(value)) return false;
  if (value.startsWith('-') || value.endsWith('.lock') || value.endsWith('.') || value === '@') return false;
  if (value.includes('..') || value.includes('@{') || /[~^:?*[\\]/.test(value)) return false;
  return value.split('/').every((part) => part.length > 0 && !part.startsWith('.'));
}

export const branchSchema = z
  .string({ error: 'expected a branch name' })
  .refine(isBranchName, { error: 'expected a valid git branch name (see git check-ref-format)' });

const COMMIT_RULE = 'expected a commit sha of 7-64 hex digits';
export const commitSchema = z.string({ error: COMMIT_RULE }).regex(/^[0-9a-fA-F]{7,64}$/, { error: COMMIT_RULE });

export const portSchema = intBetween(1, 65535);

/** POSIX-portable names: what a shell can set and every runtime passes on. */
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_NAME_MAX = 256;
const ENV_NAME_RULE = `letters, digits and _, not starting with a digit, at most ${String(ENV_NAME_MAX)} characters`;

/**
 * Why `name` cannot be an environment variable of a deployment, or undefined when it can. One rule
 * for the API, the CLI and the wire, each of which says it in its own words around this reason.
 */
export function envNameProblem(name: string): string | undefined {
  // matches the pattern, but env travels as JavaScript objects, where this key sets the prototype
  // instead of an entry (zod's records drop it): it would vanish without a word
  if (name === '__proto__') return '__proto__ cannot be an environment variable name here: JavaScript objects, which carry env through Kraken, cannot hold it';
  if (name.length > ENV_NAME_MAX || !ENV_NAME_PATTERN.test(name)) {
    const shown = name.length > 80 ? `${JSON.stringify(name.slice(0, 80))}... (${String(name.length)} characters)` : JSON.stringify(name);
    return `${shown} is not a valid variable name (${ENV_NAME_RULE})`;
  }
  return undefined;
}

/** Why `value` cannot be an environment variable's value, or undefined when it can. */
export function envValueProblem(value: string): string | undefined {
  // the operating system passes the environment as C strings: a value would end at its first NUL
  if (value.includes('\0')) return 'contains a NUL byte (\\0), which no environment variable can hold';
  return undefined;
}

export const envSchema = z.record(
  z.string().superRefine((name, ctx) => {
    const problem = envNameProblem(name);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
  text(65_536).superRefine((value, ctx) => {
    const problem = envValueProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

const HTTP_URL_RULE = 'expected an http(s) URL';
export const httpUrlSchema = z
  .string({ error: HTTP_URL_RULE })
  .max(2048, { error: `${HTTP_URL_RULE} of at most 2048 characters` })
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, { error: HTTP_URL_RULE });
