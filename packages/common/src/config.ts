import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { z } from 'zod';
import { ErrorCode, KrakenError } from './errors.js';

export type ConfigSource = 'default' | 'file' | 'env' | 'flag';

export interface LoadConfigOptions<S extends z.ZodObject> {
  /** zod object schema with defaults; its top-level keys are the config keys. */
  schema: S;
  /** Path to a `.toml` or `.json` file; a missing file named explicitly is an error. */
  file?: string | undefined;
  /** Environment to read (`process.env` in the app). Keys: prefix + SCREAMING_SNAKE of the config key. */
  env?: Readonly<Record<string, string | undefined>>;
  /** @default 'KRAKEN_' */
  envPrefix?: string;
  /** Parsed command-line flags, already camelCased (commander does this); undefined means not given. */
  flags?: Readonly<Record<string, unknown>>;
}

export interface LoadedConfig<T> {
  config: T;
  /** Where each key's value came from, so `kraken status` and errors can say it. */
  sources: Record<string, ConfigSource>;
}

/**
 * Merges defaults < file < environment < flags and validates the result once. An invalid value
 * is reported with its key, where it came from and what is allowed, never silently replaced.
 */
export function loadConfig<S extends z.ZodObject>(options: LoadConfigOptions<S>): LoadedConfig<z.infer<S>> {
  const keys = Object.keys(options.schema.shape);
  const prefix = options.envPrefix ?? 'KRAKEN_';
  const merged: Record<string, unknown> = {};
  const sources: Record<string, ConfigSource> = {};

  const apply = (values: Record<string, unknown>, source: ConfigSource) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      merged[key] = value;
      sources[key] = source;
    }
  };

  if (options.file !== undefined) apply(readConfigFile(options.file, keys), 'file');
  if (options.env) {
    const fromEnv: Record<string, unknown> = {};
    for (const key of keys) {
      const value = options.env[prefix + toScreamingSnake(key)];
      if (value !== undefined && value !== '') fromEnv[key] = value;
    }
    apply(fromEnv, 'env');
  }
  if (options.flags) apply(pick(options.flags, keys), 'flag');

  const parsed = options.schema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const source = sources[key];
      const where =
        source === 'env'
          ? ` (from ${prefix}${toScreamingSnake(key)})`
          : source === 'flag'
            ? ` (from --${toKebab(key)})`
            : source === 'file'
              ? ` (from ${options.file ?? 'file'})`
              : '';
      return `${issue.path.join('.') || '(root)'}${where}: ${issue.message}`;
    });
    throw new KrakenError(ErrorCode.InvalidConfig, `invalid configuration:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  for (const key of keys) sources[key] ??= 'default';
  return { config: parsed.data, sources };
}

function readConfigFile(file: string, keys: readonly string[]): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (cause) {
    throw new KrakenError(ErrorCode.InvalidConfig, `cannot read config file ${file}`, { cause });
  }
  let data: unknown;
  try {
    data = path.extname(file) === '.json' ? JSON.parse(text) : parseToml(text);
  } catch (cause) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `config file ${file} is not valid ${path.extname(file) === '.json' ? 'JSON' : 'TOML'}: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new KrakenError(ErrorCode.InvalidConfig, `config file ${file} must hold a table of settings`);
  }
  // named as the user wrote them, since that is what they will search their file for
  const unknown = Object.keys(data).filter((key) => !keys.includes(toCamel(key)));
  if (unknown.length > 0) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `config file ${file} has unknown settings: ${unknown.join(', ')} (known: ${keys.join(', ')})`,
    );
  }
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [toCamel(key), value]));
}

function pick(values: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => key in values).map((key) => [key, values[key]]));
}

function toScreamingSnake(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toUpperCase();
}

function toKebab(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function toCamel(key: string): string {
  return key.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
