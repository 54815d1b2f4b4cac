import { err, ok } from '@kraken/common';
import type { Result } from '@kraken/common';
import type { z } from 'zod';
import { defaultsFor } from './defaults.js';
import { describeValue, isTable } from './describe.js';
import { asText, readEnv } from './env.js';
import {
  authorSchema,
  commandSchema,
  cpusSchema,
  endpointSchema,
  langSchema,
  legacyBranchSchema,
  memorySchema,
  nameSchema,
  portSchema,
  relativePathSchema,
  versionSchema,
} from './fields.js';
import { Lang } from './lang.js';
import type { Lang as LangType } from './lang.js';
import type { ConfigSection, Manifest } from './manifest.js';
import type { ManifestProblem } from './manifest-error.js';
import type { SourceMap } from './source-map.js';
import { closestKey } from './suggest.js';

const TOP_KEYS = ['app', 'config', 'env-vars'] as const;
const APP_KEYS = ['name', 'version', 'author', 'endpoint'] as const;
const CONFIG_KEYS = ['lang', 'port', 'run', 'test', 'env', 'memory', 'cpus', 'root', 'dockerfile'] as const;
/** Accepted for old manifests but never suggested. */
const LEGACY_CONFIG_KEYS = ['branch'] as const;

/** Words people reach for, mapped to the key Kraken uses. */
const SYNONYMS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '': { environment: 'env-vars', envvars: 'env-vars' },
  app: { title: 'name', url: 'endpoint', path: 'endpoint', authors: 'author' },
  config: {
    command: 'run',
    cmd: 'run',
    start: 'run',
    language: 'lang',
    runtime: 'lang',
    environment: 'env',
    variables: 'env',
    vars: 'env',
    mem: 'memory',
    ram: 'memory',
    cpu: 'cpus',
    tests: 'test',
  },
};

/** Languages whose image has no start command of its own, so `run` is required. */
const NEEDS_RUN: readonly LangType[] = [Lang.Node, Lang.Python3];

/** Collects problems with their line, so one pass reports everything wrong. */
class Problems {
  readonly list: ManifestProblem[] = [];
  constructor(private readonly source: SourceMap) {}

  add(path: readonly string[], message: string): void {
    const line = this.source.lineOf(path);
    this.list.push({
      field: fieldName(path),
      message,
      ...(line === undefined ? {} : { line }),
    });
  }

  /** Runs one value's schema; failures become problems and the value `undefined`. */
  read<S extends z.ZodType>(schema: S, table: Record<string, unknown>, path: readonly string[]): z.output<S> | undefined {
    const key = path[path.length - 1] ?? '';
    const parsed = schema.safeParse(table[key]);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) this.add([...path, ...issue.path.map(String)], issue.message);
    return undefined;
  }
}

/** Validates a parsed TOML document into a normalised Manifest, or every problem found. */
export function validateDocument(doc: Record<string, unknown>, source: SourceMap): Result<Manifest, ManifestProblem[]> {
  const problems = new Problems(source);
  checkKeys(doc, [], TOP_KEYS, problems);

  const app = requireTable(doc, 'app', 'add an [app] table with at least name and version', problems);
  const config = requireTable(doc, 'config', 'add a [config] table with at least lang (and run, port for most apps)', problems);
  const appSection = app && readApp(app, source, problems);
  const configSection = config && readConfig(config, doc['env-vars'], source, problems);
  if (config === undefined) readEnv([{ path: ['env-vars'], value: doc['env-vars'], legacy: true }], source, problems);

  if (problems.list.length > 0 || !appSection || !configSection) return err(problems.list);
  return ok(deepFreeze({ app: appSection, config: configSection }));
}

function readApp(app: Record<string, unknown>, source: SourceMap, problems: Problems): Manifest['app'] | undefined {
  checkKeys(app, ['app'], APP_KEYS, problems);
  const name = problems.read(nameSchema, app, ['app', 'name']);
  const version = problems.read(versionSchema, app, ['app', 'version']);
  const author = problems.read(authorSchema, app, ['app', 'author']);
  const endpoint = problems.read(endpointSchema, app, ['app', 'endpoint']) ?? '/';
  if (name === undefined || version === undefined) return undefined;
  return {
    name,
    version: asText(version, source.rawValueOf(['app', 'version'])),
    ...(author === undefined ? {} : { author }),
    endpoint,
  };
}

function readConfig(
  config: Record<string, unknown>,
  legacyEnv: unknown,
  source: SourceMap,
  problems: Problems,
): ConfigSection | undefined {
  checkKeys(config, ['config'], CONFIG_KEYS, problems, LEGACY_CONFIG_KEYS);
  const lang = problems.read(langSchema, config, ['config', 'lang']);
  const port = problems.read(portSchema, config, ['config', 'port']);
  const run = problems.read(commandSchema, config, ['config', 'run']);
  const test = problems.read(commandSchema, config, ['config', 'test']);
  const memoryMb = problems.read(memorySchema, config, ['config', 'memory']);
  const cpus = problems.read(cpusSchema, config, ['config', 'cpus']);
  const root = problems.read(relativePathSchema, config, ['config', 'root']);
  const dockerfile = problems.read(relativePathSchema, config, ['config', 'dockerfile']);
  problems.read(legacyBranchSchema, config, ['config', 'branch']);
  const env = readEnv(
    [
      { path: ['config', 'env'], value: config['env'], legacy: false },
      { path: ['env-vars'], value: legacyEnv, legacy: true },
    ],
    source,
    problems,
  );
  if (lang === undefined) return undefined;

  const rawRun = config['run'];
  // A non-string `run` was already reported by its schema; here only "absent" and "blank" remain.
  if (run === undefined && NEEDS_RUN.includes(lang) && (rawRun === undefined || typeof rawRun === 'string')) {
    const what = rawRun === undefined ? 'missing' : 'empty';
    problems.add(
      ['config', 'run'],
      `${what}; ${lang} apps need the command that starts them, such as run = ${JSON.stringify(defaultsFor(lang).run)}`,
    );
  }
  if (config['root'] !== undefined && lang !== Lang.Static)
    problems.add(['config', 'root'], `only used with lang = "static" (it names the folder to serve); remove it`);
  if (config['dockerfile'] !== undefined && lang !== Lang.Custom) {
    problems.add(
      ['config', 'dockerfile'],
      `only used with lang = "custom" (Kraken builds ${lang} apps from its own template); remove it, or set lang = "custom"`,
    );
  }

  return {
    lang,
    // Only static has a port Kraken knows (its file server); others listen where their code says.
    ...optional('port', port ?? (lang === Lang.Static ? defaultsFor(lang).port : undefined)),
    ...optional('run', run),
    ...optional('test', test),
    env,
    limits: { ...optional('memoryMb', memoryMb), ...optional('cpus', cpus) },
    ...optional('root', lang === Lang.Static ? (root ?? defaultsFor(lang).root) : undefined),
    ...optional('dockerfile', lang === Lang.Custom ? (dockerfile ?? defaultsFor(lang).dockerfile) : undefined),
  };
}

function requireTable(
  doc: Record<string, unknown>,
  key: string,
  fix: string,
  problems: Problems,
): Record<string, unknown> | undefined {
  const value = doc[key];
  if (isTable(value)) return value;
  problems.add(
    [key],
    value === undefined ? `missing [${key}] table; ${fix}` : `must be a table ([${key}]); got ${describeValue(value)}`,
  );
  return undefined;
}

/** Unknown keys are errors (a typo would otherwise silently drop a setting), with the likely intended key. */
function checkKeys(
  table: Record<string, unknown>,
  path: readonly string[],
  known: readonly string[],
  problems: Problems,
  legacy: readonly string[] = [],
): void {
  const tableName = path.join('.');
  for (const key of Object.keys(table)) {
    if (known.includes(key) || legacy.includes(key)) continue;
    problems.add([...path, key], `unknown key; ${unknownKeyHint(key, tableName, known)}`);
  }
}

function unknownKeyHint(key: string, tableName: string, known: readonly string[]): string {
  const lower = key.toLowerCase();
  if (lower === 'env' && tableName !== 'config')
    return "environment variables go in [config.env] (or the original Kraken's [env-vars])";
  const elsewhere = [
    ['app', APP_KEYS],
    ['config', CONFIG_KEYS],
  ] as const;
  for (const [table, keys] of elsewhere) {
    if (table !== tableName && (keys as readonly string[]).includes(lower)) return `'${lower}' belongs in [${table}]`;
  }
  const suggestion = closestKey(key, known, SYNONYMS[tableName]);
  if (suggestion !== undefined) return `did you mean '${suggestion}'?`;
  return `known keys${tableName === '' ? '' : ` in [${tableName}]`}: ${known.join(', ')}`;
}

/** `config.env."MY VAR"`: segments that are not bare TOML keys are quoted, so the field reads as written. */
function fieldName(path: readonly string[]): string {
  return path.map((part) => (/^[A-Za-z0-9_-]+$/.test(part) ? part : JSON.stringify(part))).join('.');
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) deepFreeze(child as object);
  return Object.freeze(value);
}
