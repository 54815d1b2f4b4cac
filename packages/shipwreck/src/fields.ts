import path from 'node:path';
import { z } from 'zod';
import { explain, mustBe } from './describe.js';
import { LANG_CHOICES, normaliseLang } from './lang.js';
import { MAX_MEMORY_MB, MIN_MEMORY_MB, parseMemoryMb } from './memory.js';

/**
 * One zod schema per manifest value. Each failure is worded as "must be <rule>; got <value>", so
 * every message says what is allowed (the README's manifest reference repeats these rules).
 */
const Rule = {
  name: "1 to 63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit (it becomes part of container and image names)",
  version: 'a non-empty string such as "1.0.0"',
  author: 'a string',
  endpoint: 'a path starting with "/", such as "/" or "/status"',
  lang: `one of ${LANG_CHOICES}`,
  port: 'a whole number from 1 to 65535 (the port the app listens on inside its container)',
  command: 'a shell command (a string)',
  memory: `a size such as "512m" or "1g", or a whole number of megabytes, from ${MIN_MEMORY_MB}m to ${MAX_MEMORY_MB / 1024}g`,
  cpus: 'a number of CPUs above 0 and at most 64, such as 0.5 or 2',
  path: 'a relative path inside the repository, such as "." or "public"',
  envValue: 'a string (numbers and booleans are turned into strings)',
  branch: 'a string',
} as const;

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const nameSchema = z.string(mustBe(Rule.name)).transform((value, ctx) => {
  const name = value.trim().toLowerCase();
  if (NAME.test(name)) return name;
  const suggestion = toNameLike(value);
  const hint = suggestion === undefined ? '' : `; try ${JSON.stringify(suggestion)}`;
  ctx.addIssue({
    code: 'custom',
    input: value,
    message: explain(Rule.name, value) + hint,
  });
  return z.NEVER;
});

/** Strings are trimmed; a number (old manifests: `version = 1.0`) is turned into text by the caller, who sees the source. */
export const versionSchema = z.union([z.string(), z.number()], mustBe(Rule.version)).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const version = value.trim();
  if (version !== '') return version;
  ctx.addIssue({
    code: 'custom',
    input: value,
    message: explain(Rule.version, value),
  });
  return z.NEVER;
});

export const authorSchema = z
  .string(mustBe(Rule.author))
  .transform((value) => (value.trim() === '' ? undefined : value.trim()))
  .optional();

/**
 * The original Kraken documented `endpoint` as the project's URL (its examples point at GitHub), so
 * an absolute http(s) URL, like an empty string, means "no endpoint": the app's root.
 */
export const endpointSchema = z
  .string(mustBe(Rule.endpoint))
  .transform((value, ctx) => {
    const endpoint = value.trim();
    if (endpoint === '' || /^https?:\/\//i.test(endpoint)) return '/';
    if (endpoint.startsWith('/') && !/[\s\p{Cc}]/u.test(endpoint)) return endpoint;
    ctx.addIssue({
      code: 'custom',
      input: value,
      message: explain(Rule.endpoint, value),
    });
    return z.NEVER;
  })
  .optional();

export const langSchema = z.string(mustBe(Rule.lang)).transform((value, ctx) => {
  const lang = normaliseLang(value);
  if (lang !== undefined) return lang;
  ctx.addIssue({
    code: 'custom',
    input: value,
    message: `${JSON.stringify(value)} is not supported; use one of ${LANG_CHOICES} (custom builds the repository's own Dockerfile, for any other language)`,
  });
  return z.NEVER;
});

const portRule = mustBe(Rule.port, { numeric: true });
export const portSchema = z.int(portRule).min(1, portRule).max(65_535, portRule).optional();

/** Blank means "not set": the original Kraken wrote `test = ""` for "no test step". */
export const commandSchema = z
  .string(mustBe(Rule.command))
  .transform((value) => (value.trim() === '' ? undefined : value.trim()))
  .optional();

export const memorySchema = z
  .union([z.number(), z.string()], mustBe(Rule.memory))
  .transform((value, ctx) => {
    const mb = parseMemoryMb(value);
    if (mb !== undefined && mb >= MIN_MEMORY_MB && mb <= MAX_MEMORY_MB) return mb;
    const unitless = typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value);
    const hint = unitless ? ` (add a unit such as "${value.trim()}m", or write megabytes as a number without quotes)` : '';
    ctx.addIssue({
      code: 'custom',
      input: value,
      message: explain(Rule.memory, value) + hint,
    });
    return z.NEVER;
  })
  .optional();

const cpusRule = mustBe(Rule.cpus, { numeric: true });
export const cpusSchema = z.number(cpusRule).gt(0, cpusRule).lte(64, cpusRule).optional();

/** A path that cannot leave the repository once the deployer joins it to the checkout. */
export const relativePathSchema = z
  .string(mustBe(Rule.path))
  .transform((value, ctx) => {
    const trimmed = value.trim();
    const normalised = path.posix.normalize(trimmed).replace(/\/+$/, '') || '.';
    const escapes = normalised === '..' || normalised.startsWith('../');
    if (trimmed !== '' && !path.posix.isAbsolute(trimmed) && !trimmed.includes('\\') && !escapes) return normalised;
    ctx.addIssue({
      code: 'custom',
      input: value,
      message: explain(Rule.path, value),
    });
    return z.NEVER;
  })
  .optional();

export const envValueSchema = z.union([z.string(), z.number(), z.boolean()], mustBe(Rule.envValue));

/** The original Kraken once had `config.branch`; the branch is now chosen when deploying, so it is read and ignored. */
export const legacyBranchSchema = z.string(mustBe(Rule.branch)).optional();

/** A name the user probably meant: lowercased, other characters turned into '-', cut to 63. */
function toNameLike(value: string): string | undefined {
  const slug = value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return slug === '' ? undefined : slug;
}
