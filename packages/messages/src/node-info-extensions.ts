import type { Result } from '@kraken/common';
import { ErrorCode, KrakenError, err, ok } from '@kraken/common';
import { z } from 'zod';
import { text } from './fields.js';
import { parseOptions, summarizeIssues } from './issues.js';

// node.info `extensions`: a few readings an add-on executor contributes to its node's heartbeat
// (a temperature, a job's last result). Bounded so that an add-on cannot turn heartbeats into a
// data channel or push them over the message size limit; optional, so PROTOCOL_VERSION stays 1.

/** What `extensions` may hold; the size of a whole node.info stays a few KiB. */
export const NodeInfoExtensionLimits = {
  maxEntries: 32,
  maxKeyChars: 64,
  maxStringChars: 256,
} as const;

/** Keys start with a lowercase letter; dots group them (`temperature.celsius`). */
export const EXTENSION_KEY_PATTERN = /^[a-z][a-zA-Z0-9_.-]{0,63}$/;
const KEY_RULE = `expected an extension key matching ${EXTENSION_KEY_PATTERN.source}`;
const VALUE_RULE = `expected a string of at most ${NodeInfoExtensionLimits.maxStringChars} characters, a finite number or a boolean`;
const ENTRIES_RULE = `expected at most ${NodeInfoExtensionLimits.maxEntries} entries`;

export const nodeInfoExtensionsSchema = z
  .record(
    z.string({ error: KEY_RULE }).regex(EXTENSION_KEY_PATTERN, { error: KEY_RULE }),
    z.union([text(NodeInfoExtensionLimits.maxStringChars), z.number(), z.boolean()], { error: VALUE_RULE }),
    // only for a non-object: key and value issues keep the rules above
    { error: (issue) => (issue.code === 'invalid_type' ? 'expected an object of extension values' : undefined) },
  )
  .superRefine((record, ctx) => {
    const entries = Object.keys(record).length;
    if (entries > NodeInfoExtensionLimits.maxEntries) ctx.addIssue({ code: 'custom', message: ENTRIES_RULE, input: entries });
  });

/** Extra readings in a node.info heartbeat, keyed like `temperature.celsius`. */
export type NodeInfoExtensions = Record<string, string | number | boolean>;

/**
 * Checks what an add-on offers before it goes into a heartbeat, so a bad value is reported by the
 * add-on's name for it instead of failing the whole node.info. The error (InvalidInput) names the
 * first bad key: `extensions["temperature.celsius"]: expected a string ..., got an object`.
 */
export function parseNodeInfoExtensions(value: unknown): Result<NodeInfoExtensions, KrakenError> {
  // Counted before zod walks the entries: a runaway add-on may return a huge object.
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.keys(value).length;
    if (entries > NodeInfoExtensionLimits.maxEntries) {
      return err(invalid(`extensions: ${ENTRIES_RULE}, got ${entries}`, 'extensions'));
    }
  }
  const result = nodeInfoExtensionsSchema.safeParse(value, parseOptions);
  if (result.success) return ok(result.data);
  const issues = result.error.issues.map((issue) => ({ ...issue, path: ['extensions', ...issue.path] }));
  const summary = summarizeIssues(issues);
  return err(invalid(summary.message, summary.field ?? 'extensions'));
}

function invalid(message: string, field: string): KrakenError {
  return new KrakenError(ErrorCode.InvalidInput, message, { details: { field } });
}
