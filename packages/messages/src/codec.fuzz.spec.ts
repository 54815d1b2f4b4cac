import { seededRandom } from '@kraken/common';
import { fixtureBytes, fixtureDocument } from '../test/fixtures.js';
import { decode, encode } from './codec.js';
import { DecodeError, DecodeFailure } from './decode-error.js';
import { MessageType } from './message-type.js';

// Property: whatever bytes arrive, decode returns a Result (never throws), a refusal is a short
// DecodeError with a known reason, and anything it accepts encodes and decodes back unchanged.

const SEED = 20251125;
const CASES_PER_TYPE = 300;

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items.at(Math.floor(random() * items.length))!;
const intBelow = (random: Random, n: number): number => Math.floor(random() * n);

const strangeValues: readonly unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  -0,
  '',
  'x'.repeat(20_000),
  '\ud800',
  '2025-13-45T99:99:99Z',
  '../../etc/passwd',
  [],
  [null],
  {},
  { __proto__: { polluted: true } },
  JSON.parse('{"__proto__":{"polluted":true}}'),
  JSON.parse(`${'['.repeat(2000)}${']'.repeat(2000)}`),
];

/** Replaces one value somewhere in the document (envelope or body, any depth) with a strange one. */
function replaceRandomValue(random: Random, document: Record<string, unknown>): void {
  let node: unknown = document;
  for (let depth = 0; depth < 4; depth++) {
    if (typeof node !== 'object' || node === null) return;
    const container = node as Record<string, unknown>;
    const keys = Object.keys(container);
    if (keys.length === 0) return;
    const key = pick(random, keys);
    const child = container[key];
    if (typeof child !== 'object' || child === null || random() < 0.4) {
      if (random() < 0.2) {
        // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
        delete container[key];
      } else {
        container[key] = pick(random, strangeValues);
      }
      return;
    }
    node = child;
  }
}

function mutate(random: Random, type: MessageType): Buffer {
  const bytes = Buffer.from(fixtureBytes(type));
  switch (intBelow(random, 6)) {
    case 0:
      return bytes.subarray(0, intBelow(random, bytes.length));
    case 1: {
      for (let flips = 1 + intBelow(random, 4); flips > 0; flips--) bytes[intBelow(random, bytes.length)] = intBelow(random, 256);
      return bytes;
    }
    case 2: {
      const at = intBelow(random, bytes.length);
      const noise = Buffer.from(Array.from({ length: 1 + intBelow(random, 8) }, () => intBelow(random, 256)));
      return Buffer.concat([bytes.subarray(0, at), noise, bytes.subarray(at)]);
    }
    case 3: {
      const from = intBelow(random, bytes.length);
      return Buffer.concat([bytes.subarray(0, from), bytes.subarray(from + 1 + intBelow(random, 20))]);
    }
    case 4: {
      const at = intBelow(random, bytes.length);
      const from = intBelow(random, bytes.length);
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(from, from + 1 + intBelow(random, 40)), bytes.subarray(at)]);
    }
    default: {
      const document = fixtureDocument(type);
      replaceRandomValue(random, document);
      return Buffer.from(JSON.stringify(document));
    }
  }
}

describe('decode under random mutation of valid messages', () => {
  it(`never throws, and either refuses cleanly or round-trips (${CASES_PER_TYPE} cases per type, seed ${SEED})`, () => {
    const random = seededRandom(SEED);
    const reasons = new Map<DecodeFailure, number>();
    const knownReasons = new Set<string>(Object.values(DecodeFailure));
    let accepted = 0;

    for (const type of Object.values(MessageType)) {
      for (let i = 0; i < CASES_PER_TYPE; i++) {
        const input = mutate(random, type);
        const context = `${type} case ${i}: ${input.toString('latin1').slice(0, 300)}`;
        let result: ReturnType<typeof decode>;
        try {
          result = decode(input);
        } catch (error) {
          throw new Error(`decode threw on ${context}`, { cause: error });
        }
        if (result.ok) {
          accepted++;
          const again = decode(encode(result.value));
          expect(again.ok && again.value).toEqual(result.value);
          continue;
        }
        const { error } = result;
        if (!(error instanceof DecodeError) || !knownReasons.has(error.reason) || error.message.length > 700) {
          throw new Error(`bad refusal for ${context}: ${String(error)}`);
        }
        reasons.set(error.reason, (reasons.get(error.reason) ?? 0) + 1);
      }
    }

    // The mutations reach every stage of decoding, not just the JSON parser.
    expect([...reasons.keys()]).toEqual(
      expect.arrayContaining([DecodeFailure.NotJson, DecodeFailure.NotEnvelope, DecodeFailure.UnsupportedVersion, DecodeFailure.InvalidBody]),
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it('survives deeply nested JSON in the envelope and the body', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(decode(deep).ok).toBe(false);
    const document = JSON.stringify(fixtureDocument(MessageType.DeployStop)).replace('"blog-7f3a"', deep);
    const result = decode(document);
    expect(!result.ok && result.error.reason).toBe(DecodeFailure.InvalidBody);
  });
});
