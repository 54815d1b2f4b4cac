import { readdir } from 'node:fs/promises';
import { RepoFileRefused, readRepoFile } from '@kraken/common';
import path from 'node:path';
import { MANIFEST_FILE, MAX_MANIFEST_BYTES } from './manifest.js';
import type { Manifest } from './manifest.js';
import { ManifestError } from './manifest-error.js';
import { parseManifest, tooLarge } from './parse.js';

/**
 * Reads and validates `<dir>/shipwreck.toml`. Messages name the file as the user knows it
 * (`shipwreck.toml`, relative to the repository root), not the checkout's temporary path.
 */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    // without following a link: the agent reads it with its own rights, and a link may point at its secrets
    text = await readRepoFile(file, MAX_MANIFEST_BYTES);
  } catch (cause) {
    if (cause instanceof RepoFileRefused) {
      if (cause.refusal === 'too-large') throw tooLarge(MANIFEST_FILE, cause.size ?? 0);
      throw fileProblem(cause.refusal === 'link' ? `${MANIFEST_FILE} is a symbolic link: Kraken reads the manifest only from a regular file at the repository's root (a link may point at any file of the machine)` : `${MANIFEST_FILE} in ${dir} is not a regular file`, cause);
    }
    if (isErrno(cause, 'ENOENT') || isErrno(cause, 'ENOTDIR')) throw await missing(dir, cause);
    throw fileProblem(`cannot read ${file}: ${describeError(cause)}`, cause);
  }
  return parseManifest(text, { file: MANIFEST_FILE });
}

async function missing(dir: string, cause: unknown): Promise<ManifestError> {
  const nearMiss = await findNearMiss(dir);
  const hint = nearMiss === undefined ? '' : ` (found ${nearMiss}; the name must be exactly ${MANIFEST_FILE}, in lower case)`;
  return fileProblem(
    `the repository has no ${MANIFEST_FILE} at its root (looked in ${dir})${hint}; ` +
      `create one with \`kraken init\`, which writes a commented template for the app's language, then commit it`,
    cause,
  );
}

/** A file the user probably meant: other case (`Shipwreck.toml`) or extension (`shipwreck.yml`). */
async function findNearMiss(dir: string): Promise<string | undefined> {
  try {
    const names = await readdir(dir);
    return names.find((name) => name !== MANIFEST_FILE && /^shipwreck(\.[a-z]+)?$/i.test(name));
  } catch {
    return undefined;
  }
}

function fileProblem(message: string, cause?: unknown): ManifestError {
  return new ManifestError(MANIFEST_FILE, [{ field: '', message }], cause === undefined ? {} : { cause });
}

// Duck-typed rather than `instanceof Error`: errors from node:fs may come from another realm (vm, jest).
function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function describeError(error: unknown): string {
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(error);
}
