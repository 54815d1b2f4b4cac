import { inspect } from 'node:util';
import { ErrorCode, KrakenError } from '@kraken/common';
import { DataKey, SEALED_PREFIX, isSealed } from './data-key.js';

const key = DataKey.generate('/data/secrets.json');

describe('DataKey', () => {
  it('seals a value so that it opens again, with a fresh IV each time', () => {
    const plain = '{"DATABASE_PASSWORD":"hunter2","EMOJI":"🦑"}';
    const once = key.seal(plain, 'deployments.env');
    const twice = key.seal(plain, 'deployments.env');
    expect(once.startsWith(SEALED_PREFIX)).toBe(true);
    expect(once).not.toContain('hunter2');
    expect(twice).not.toBe(once);
    expect(key.open(once, 'deployments.env')).toBe(plain);
    expect(key.open(twice, 'deployments.env')).toBe(plain);
    expect(key.open(key.seal('', 'deployments.env'), 'deployments.env')).toBe('');
  });

  it('refuses an altered value, naming the key file, instead of returning garbage', () => {
    const sealed = key.seal('hunter2', 'deployments.env');
    const body = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
    body[14] = (body[14] ?? 0) ^ 1; // one bit of the ciphertext
    const altered = SEALED_PREFIX + body.toString('base64url');
    expect(() => key.open(altered, 'deployments.env')).toThrow(
      'cannot open a secret (deployments.env) with the data key from /data/secrets.json: it was sealed with another data key, or altered',
    );
    expect(() => key.open(`${SEALED_PREFIX}AAAA`, 'deployments.env')).toThrow('it is too short to be a sealed value');
  });

  it('refuses a value sealed with another key, or for another column', () => {
    const sealed = key.seal('hunter2', 'deployments.env');
    const other = DataKey.generate('/elsewhere/secrets.json');
    let thrown: unknown;
    try {
      other.open(sealed, 'deployments.env');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KrakenError);
    expect(thrown).toMatchObject({ code: ErrorCode.InvalidConfig, details: { file: '/elsewhere/secrets.json' } });
    expect(() => key.open(sealed, 'settings.cluster_secrets')).toThrow('sealed with another data key, or altered');
  });

  it('reads a value stored in clear before sealing existed as it is', () => {
    expect(isSealed('{"PORT":"3000"}')).toBe(false);
    expect(key.open('{"PORT":"3000"}', 'deployments.env')).toBe('{"PORT":"3000"}');
  });

  it('is kept as text and read back as the same key; a malformed one is refused naming its file', () => {
    const again = DataKey.fromText(key.toText(), '/data/secrets.json');
    expect(again.equals(key)).toBe(true);
    expect(again.open(key.seal('x', 'c'), 'c')).toBe('x');
    expect(() => DataKey.fromText('c2hvcnQ', '/data/secrets.json')).toThrow('/data/secrets.json: dataKey: expected 32 bytes in base64url');
    expect(() => DataKey.fromText(42, '/data/secrets.json')).toThrow('/data/secrets.json: dataKey');
    expect(() => DataKey.fromText(`${key.toText().slice(0, 42)}!`, '/data/secrets.json')).toThrow('/data/secrets.json: dataKey');
  });

  it('never shows itself in a log line or JSON by mistake', () => {
    const text = key.toText();
    expect(JSON.stringify({ key })).not.toContain(text);
    expect(inspect({ key })).not.toContain(text);
    expect(inspect({ key })).toContain('[data key from /data/secrets.json]');
  });
});
