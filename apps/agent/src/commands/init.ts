import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ErrorCode, KrakenError } from '@kraken/common';
import type { Lang } from '@kraken/shipwreck';
import { LANGS, MANIFEST_FILE, defaultsFor, detectLang, renderManifest } from '@kraken/shipwreck';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';

export interface InitInput {
  dir: string;
  lang?: string | undefined;
  name?: string | undefined;
  port?: number | undefined;
  run?: string | undefined;
  test?: string | undefined;
  force: boolean;
  /** Ask for what the flags did not give (only when stdin is a terminal). */
  interactive: boolean;
}

/** `kraken init`: writes a commented shipwreck.toml from flags, what the folder holds, and answers. */
export async function initCommand(input: InitInput, io: CommandIo): Promise<ExitCode> {
  const file = path.join(input.dir, MANIFEST_FILE);
  if (fs.existsSync(file) && !input.force) {
    throw new KrakenError(ErrorCode.InvalidInput, `${file} already exists; --force overwrites it`);
  }
  const detected = detectLang(fs.readdirSync(input.dir));
  let lang = input.lang ?? detected;
  let name = input.name ?? appNameFrom(input.dir);
  let port = input.port;
  if (input.interactive) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      lang = (await rl.question(`lang (${LANGS.join(', ')}) [${lang ?? 'node'}]: `)).trim() || lang;
      name = (await rl.question(`app name [${name}]: `)).trim() || name;
      const defaultPort = port ?? defaultsFor(asLang(lang ?? 'node')).port;
      const answer = (await rl.question(`port [${defaultPort}]: `)).trim();
      port = answer === '' ? defaultPort : Number(answer);
    } finally {
      rl.close();
    }
  }
  if (lang === undefined) {
    throw new KrakenError(ErrorCode.InvalidInput, `cannot tell the app's language from ${input.dir}: give --lang (${LANGS.join(', ')})`);
  }
  const text = renderManifest({
    lang: asLang(lang),
    name,
    ...(port === undefined ? {} : { port }),
    ...(input.run === undefined ? {} : { run: input.run }),
    ...(input.test === undefined ? {} : { test: input.test }),
  });
  fs.writeFileSync(file, text);
  io.out(`wrote ${file} (${lang}${detected === lang ? ', detected' : ''}); deploy with: kraken deploy <git-url>`);
  return ExitCode.Ok;
}

function asLang(value: string): Lang {
  const lang = value === 'python' ? 'python3' : value;
  if (!(LANGS as readonly string[]).includes(lang)) {
    throw new KrakenError(ErrorCode.InvalidInput, `unknown lang ${JSON.stringify(value)}: expected one of ${LANGS.join(', ')}`);
  }
  return lang as Lang;
}

/** The folder name, made into a valid app name (lowercase letters, digits, dashes). */
function appNameFrom(dir: string): string {
  return (
    path
      .basename(path.resolve(dir))
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'app'
  );
}
