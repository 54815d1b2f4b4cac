import { ErrorCode } from '@kraken/common';
import type { KrakenError, Result } from '@kraken/common';
import type { NodeInfoExtensions } from './node-info-extensions.js';
import { fixtureDocument } from '../test/fixtures.js';
import { nodeInfoBodySchema } from './bodies.js';
import { EXTENSION_KEY_PATTERN, NodeInfoExtensionLimits, parseNodeInfoExtensions } from './node-info-extensions.js';
import { MessageType } from './message-type.js';

function failure(result: Result<NodeInfoExtensions, KrakenError>): KrakenError {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  expect(result.error.code).toBe(ErrorCode.InvalidInput);
  return result.error;
}

const entries = (count: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`sensor${i}`, i]));

describe('parseNodeInfoExtensions', () => {
  it('accepts strings, finite numbers and booleans under dotted keys, unchanged', () => {
    const value = { 'temperature.celsius': 41.5, 'temperature.zone': 'x86_pkg_temp', 'backup.ok': true, 'job.runs': 0 };
    expect(parseNodeInfoExtensions(value)).toEqual({ ok: true, value });
  });

  it('accepts an empty object and exactly the maximum number of entries', () => {
    expect(parseNodeInfoExtensions({}).ok).toBe(true);
    expect(parseNodeInfoExtensions(entries(NodeInfoExtensionLimits.maxEntries)).ok).toBe(true);
  });

  it('refuses more than 32 entries, saying how many there were', () => {
    const error = failure(parseNodeInfoExtensions(entries(40)));
    expect(error.message).toBe('extensions: expected at most 32 entries, got 40');
    expect(error.details).toEqual({ field: 'extensions' });
  });

  it.each([
    ['an uppercase first letter', 'Temperature'],
    ['a leading digit', '1wire'],
    ['a space', 'cpu temp'],
    ['a colon', 'disk:/'],
    ['65 characters', `k${'x'.repeat(64)}`],
    ['the empty string', ''],
  ])('refuses a key with %s, naming the key and the rule', (_label, key) => {
    const error = failure(parseNodeInfoExtensions({ ok: 1, [key]: 2 }));
    expect(error.message).toContain(`expected an extension key matching ${EXTENSION_KEY_PATTERN.source}`);
    expect(error.message).toContain(JSON.stringify(key.slice(0, 100)));
    expect(String(error.details?.['field'])).toContain('extensions');
  });

  it('accepts a key of exactly 64 characters', () => {
    expect(parseNodeInfoExtensions({ [`k${'x'.repeat(63)}`]: 1 }).ok).toBe(true);
  });

  it.each([
    ['an object', { celsius: 41 }, 'an object'],
    ['an array', [41, 42], 'an array of 2 items'],
    ['null', null, 'null'],
    ['Infinity', Number.POSITIVE_INFINITY, 'Infinity'],
    ['NaN', Number.NaN, 'NaN'],
  ])('refuses a value that is %s, naming its key', (_label, value, got) => {
    const error = failure(parseNodeInfoExtensions({ 'temperature.celsius': value }));
    expect(error.message).toBe(
      `extensions["temperature.celsius"]: expected a string of at most 256 characters, a finite number or a boolean, got ${got}`,
    );
    expect(error.details).toEqual({ field: 'extensions["temperature.celsius"]' });
  });

  it('refuses a string over 256 characters, naming the key and keeping the message short', () => {
    const error = failure(parseNodeInfoExtensions({ note: 'y'.repeat(10_000) }));
    expect(error.message).toMatch(/^extensions\.note: expected a string of at most 256 characters, got "y{100}…"$/);
  });

  it.each([
    ['an array', [1, 2]],
    ['a string', 'hot'],
    ['undefined', undefined],
  ])('refuses %s in place of the object', (_label, value) => {
    const error = failure(parseNodeInfoExtensions(value));
    expect(error.message).toMatch(/^extensions: (missing \()?expected an object of extension values/);
  });

  it('counts entries before checking them, so a huge object fails fast on its size', () => {
    const huge = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`BAD KEY ${i}`, { nested: i }]));
    expect(failure(parseNodeInfoExtensions(huge)).message).toBe('extensions: expected at most 32 entries, got 100000');
  });
});

describe('node.info extensions and older peers', () => {
  it('leave a node.info readable by a peer whose schema has no extensions (it strips them, protocol 1 stays)', () => {
    const body = {
      ...(fixtureDocument(MessageType.NodeInfo).body as Record<string, unknown>),
      extensions: { 'temperature.celsius': 47.5 },
    };
    const olderSchema = nodeInfoBodySchema.omit({ extensions: true });
    const parsed = olderSchema.safeParse(body);
    expect(parsed.success).toBe(true);
    expect(parsed.data).not.toHaveProperty('extensions');
    expect(parsed.data?.protocolVersion).toBe(1);
  });
});
