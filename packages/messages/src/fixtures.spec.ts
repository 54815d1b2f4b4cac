import { fixtureBytes, fixtureDocument, fixtureTypes } from '../test/fixtures.js';
import { decode, encode } from './codec.js';
import type { Message } from './messages.js';
import { MessageType } from './message-type.js';

function decodeOrFail(input: Buffer): Message {
  const result = decode(input);
  if (!result.ok) throw result.error;
  return result.value;
}

describe('golden test vectors (test/fixtures)', () => {
  it('has exactly one fixture per message type', () => {
    expect(fixtureTypes().sort()).toEqual(Object.values(MessageType).sort());
  });

  describe.each(Object.values(MessageType))('%s', (type) => {
    it('decodes to exactly the fixture content (nothing stripped, nothing defaulted)', () => {
      const message = decodeOrFail(fixtureBytes(type));
      expect(message.type).toBe(type);
      expect(message).toEqual(fixtureDocument(type));
    });

    it('re-encodes to JSON that decodes to the same message', () => {
      const message = decodeOrFail(fixtureBytes(type));
      const encoded = encode(message);
      expect(JSON.parse(encoded.toString('utf8'))).toEqual(fixtureDocument(type));
      expect(decodeOrFail(encoded)).toEqual(message);
    });

    it('round-trips byte-stably once encoded', () => {
      const once = encode(decodeOrFail(fixtureBytes(type)));
      const twice = encode(decodeOrFail(once));
      expect(twice.equals(once)).toBe(true);
    });
  });
});
