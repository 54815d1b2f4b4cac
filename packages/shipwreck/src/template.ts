import { defaultsFor } from './defaults.js';
import { Lang } from './lang.js';
import { parseManifest } from './parse.js';

/** What `kraken init` knows or asked; anything left out gets the language's default. */
export interface ManifestTemplateInput {
  readonly lang: Lang;
  readonly name: string;
  /** @default "0.1.0" */
  readonly version?: string;
  readonly author?: string;
  /** @default "/" */
  readonly endpoint?: string;
  /** @default the language's port (node 3000, python3 8000, static 80, custom 8080) */
  readonly port?: number;
  /** @default the language's start command; "" writes none (static and custom only) */
  readonly run?: string;
  /** @default the language's test command (node: "npm test"); "" means no test step */
  readonly test?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Such as "512m", "1g" or a number of megabytes. */
  readonly memory?: string | number;
  readonly cpus?: number;
  /** static: the folder to serve. @default "." */
  readonly root?: string;
  /** custom: the Dockerfile to build. @default "Dockerfile" */
  readonly dockerfile?: string;
}

export const DEFAULT_VERSION = '0.1.0';

/** Commented-out examples shown when the user gave no value, so the file teaches its own options. */
const EXAMPLES: Readonly<Record<Lang, { test: string; env: readonly [string, string] }>> = {
  [Lang.Node]: { test: 'npm test', env: ['NODE_ENV', 'production'] },
  [Lang.Python3]: { test: 'python3 -m pytest', env: ['PYTHONUNBUFFERED', '1'] },
  [Lang.Static]: { test: 'test -f index.html', env: ['GREETING', 'hello'] },
  [Lang.Custom]: { test: 'make test', env: ['LOG_LEVEL', 'info'] },
};

/**
 * A commented, valid shipwreck.toml for `kraken init`. The text is parsed before it is returned, so
 * input that would make an invalid manifest (a bad name, say) throws the same ManifestError a
 * hand-written file would.
 */
export function renderManifest(input: ManifestTemplateInput): string {
  const defaults = defaultsFor(input.lang);
  const example = EXAMPLES[input.lang];
  const run = input.run ?? defaults.run ?? '';
  const test = input.test ?? defaults.test ?? '';
  const lines: string[] = [
    '# shipwreck.toml: how Kraken builds, tests and runs this app.',
    '# Every key is described in the manifest reference (README of @kraken/shipwreck).',
    '',
    '[app]',
    "# 1 to 63 of a-z, 0-9 and '-'; part of the app's container and image names.",
    `name = ${str(input.name)}`,
    `version = ${str(input.version ?? DEFAULT_VERSION)}`,
    input.author === undefined ? '# author = "Your Name"' : `author = ${str(input.author)}`,
    "# Path of the app's main page, starting with '/'.",
    `endpoint = ${str(input.endpoint ?? '/')}`,
    '',
    '[config]',
    '# node, python3 (alias python), static (Kraken serves the files in root)',
    '# or custom (Kraken builds your own Dockerfile).',
    `lang = ${str(input.lang)}`,
    input.lang === Lang.Static
      ? "# The port Kraken's file server listens on inside the container."
      : '# The port the app listens on inside its container; remove it if the app serves nothing.',
    `port = ${String(input.port ?? defaults.port)}`,
    ...runLines(input.lang, run),
    '# Runs in the built image before each deploy; a failure stops the deploy.',
    ...(test === ''
      ? ['# Uncomment to add a test step:', `# test = ${str(example.test)}`]
      : ['# Remove it to skip tests.', `test = ${str(test)}`]),
    ...langLines(input),
    '',
    '# Limits for the app\'s container: memory as "512m", "1g" or megabytes; cpus such as 0.5 or 2.',
    input.memory === undefined
      ? '# memory = "512m"'
      : `memory = ${typeof input.memory === 'number' ? String(input.memory) : str(input.memory)}`,
    input.cpus === undefined ? '# cpus = 1' : `cpus = ${String(input.cpus)}`,
    '',
    '# Environment variables for the app (values are strings).',
    ...envLines(input.env, example.env),
  ];
  const text = `${lines.join('\n')}\n`;
  parseManifest(text);
  return text;
}

function runLines(lang: Lang, run: string): string[] {
  if (lang === Lang.Static || lang === Lang.Custom) {
    const replaced = lang === Lang.Static ? "Kraken's file server" : "the Dockerfile's CMD";
    return [`# Optional: a command that replaces ${replaced}.`, run === '' ? '# run = ""' : `run = ${str(run)}`];
  }
  return ['# The command that starts the app.', `run = ${str(run)}`];
}

function langLines(input: ManifestTemplateInput): string[] {
  const defaults = defaultsFor(input.lang);
  if (input.lang === Lang.Static) {
    return ['# The folder to serve, relative to the repository root.', `root = ${str(input.root ?? defaults.root ?? '.')}`];
  }
  if (input.lang === Lang.Custom) {
    return [
      '# The Dockerfile to build, relative to the repository root.',
      `dockerfile = ${str(input.dockerfile ?? defaults.dockerfile ?? 'Dockerfile')}`,
    ];
  }
  return [];
}

function envLines(env: Readonly<Record<string, string>> | undefined, example: readonly [string, string]): string[] {
  const entries = Object.entries(env ?? {});
  if (entries.length === 0) return ['# [config.env]', `# ${example[0]} = ${str(example[1])}`];
  return ['[config.env]', ...entries.map(([name, value]) => `${key(name)} = ${str(value)}`)];
}

/** A TOML basic string. JSON's escapes are valid TOML; DEL is the one control JSON leaves raw. */
function str(value: string): string {
  return JSON.stringify(value).replace(/\u007f/g, '\\u007F');
}

function key(name: string): string {
  return /^[A-Za-z0-9_-]+$/.test(name) ? name : str(name);
}
