// Golden test vectors: one valid, realistic message per type, as another implementation of the
// protocol would have to read and write them.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const fixturesDir = join(__dirname, 'fixtures');

/** The message types there are fixtures for, from the file names (`deploy.log.json` -> `deploy.log`). */
export function fixtureTypes(): string[] {
  return readdirSync(fixturesDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length));
}

export function fixtureBytes(type: string): Buffer {
  return readFileSync(join(fixturesDir, `${type}.json`));
}

/** A fresh parsed copy each call, so tests can mutate it. */
export function fixtureDocument(type: string): Record<string, unknown> {
  return JSON.parse(fixtureBytes(type).toString('utf8')) as Record<string, unknown>;
}
