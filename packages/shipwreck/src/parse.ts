import { err } from '@kraken/common';
import type { Result } from '@kraken/common';
import { parse as parseToml, TomlError } from 'smol-toml';
import { MANIFEST_FILE, MAX_MANIFEST_BYTES } from './manifest.js';
import type { Manifest } from './manifest.js';
import { ManifestError } from './manifest-error.js';
import { SourceMap } from './source-map.js';
import { validateDocument } from './validate.js';

export interface ParseManifestOptions {
  /** Name used in messages. @default 'shipwreck.toml' */
  file?: string;
}

/** Parses and validates a shipwreck.toml text; throws a ManifestError listing every problem. */
export function parseManifest(text: string, options: ParseManifestOptions = {}): Manifest {
  const result = safeParseManifest(text, options);
  if (!result.ok) throw result.error;
  return result.value;
}

/** Like parseManifest, with the ManifestError returned instead of thrown. */
export function safeParseManifest(text: string, options: ParseManifestOptions = {}): Result<Manifest, ManifestError> {
  const file = options.file ?? MANIFEST_FILE;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_MANIFEST_BYTES) return err(tooLarge(file, bytes));

  // Editors on Windows save a byte-order mark, which TOML does not allow.
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let doc: Record<string, unknown>;
  try {
    // Manifests are flat; a deep nesting limit keeps hostile input cheap.
    doc = parseToml(source, { maxDepth: 16 });
  } catch (cause) {
    return err(syntaxError(file, cause));
  }
  const result = validateDocument(doc, SourceMap.scan(source));
  return result.ok ? result : err(new ManifestError(file, result.error));
}

export function tooLarge(file: string, bytes: number): ManifestError {
  return new ManifestError(file, [
    {
      field: '',
      message: `is ${formatKiB(bytes)}, more than the ${formatKiB(MAX_MANIFEST_BYTES)} a manifest may be; shipwreck.toml holds a few settings, so check that this is the right file`,
    },
  ]);
}

function syntaxError(file: string, cause: unknown): ManifestError {
  if (cause instanceof TomlError) {
    const reason = (cause.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
    return new ManifestError(
      file,
      [
        {
          field: '',
          line: cause.line,
          column: cause.column,
          message: `invalid TOML: ${reason}`,
          excerpt: cause.codeblock,
        },
      ],
      {
        cause,
      },
    );
  }
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ManifestError(file, [{ field: '', message: `invalid TOML: ${reason}` }], { cause });
}

function formatKiB(bytes: number): string {
  return `${Math.ceil(bytes / 1024)} KiB`;
}
