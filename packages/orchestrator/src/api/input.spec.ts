import { KrakenError } from '@kraken/common';
import { TokenCheck } from './auth.js';
import { checkId, envFromInput } from './input.js';

describe('envFromInput', () => {
  it('turns the list into a record', () => {
    expect(
      envFromInput([
        { name: 'PORT', value: '3000' },
        { name: '_DEBUG', value: '' },
      ]),
    ).toEqual({ PORT: '3000', _DEBUG: '' });
    expect(envFromInput(undefined)).toBeUndefined();
  });

  it.each([['1ST'], ['A-B'], [''], ['A B'], ['Ä']])('rejects the name %j, naming the entry', (name) => {
    expect(() =>
      envFromInput([
        { name: 'OK', value: '' },
        { name, value: 'x' },
      ]),
    ).toThrow(/^env\[1\]\.name: .* is not a valid variable name/);
  });

  it('rejects a name given twice and oversized values', () => {
    expect(() =>
      envFromInput([
        { name: 'A', value: '1' },
        { name: 'A', value: '2' },
      ]),
    ).toThrow('env[1].name: A is given twice');
    expect(() => envFromInput([{ name: 'A', value: 'x'.repeat(40_000) }])).toThrow('env[0].value: at most 32768 bytes');
  });

  it('rejects __proto__, which a JavaScript object would drop without a word', () => {
    expect(() => envFromInput([{ name: '__proto__', value: 'x' }])).toThrow(
      'env[0].name: __proto__ cannot be an environment variable name here: JavaScript objects, which carry env through Kraken, cannot hold it',
    );
  });

  it('rejects a value with a NUL byte, which no environment variable can hold', () => {
    expect(() => envFromInput([{ name: 'SECRET', value: 'a\0b' }])).toThrow(
      'env[0].value: the value of SECRET contains a NUL byte (\\0), which no environment variable can hold',
    );
  });

  it('says the rule when a name is too long', () => {
    expect(() => envFromInput([{ name: 'A'.repeat(300), value: 'x' }])).toThrow(
      `env[0].name: "${'A'.repeat(80)}"... (300 characters) is not a valid variable name (letters, digits and _, not starting with a digit, at most 256 characters)`,
    );
    expect(envFromInput([{ name: 'A'.repeat(256), value: 'x' }])).toEqual({ ['A'.repeat(256)]: 'x' });
  });
});

describe('checkId', () => {
  it('rejects what cannot be an id with INVALID_INPUT', () => {
    expect(checkId('nodeId', 'node-a.lan')).toBe('node-a.lan');
    const error = (() => {
      try {
        checkId('nodeId', '../x');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(KrakenError);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', details: { field: 'nodeId' } });
  });
});

describe('TokenCheck', () => {
  const tokens = new TokenCheck('s3cret-token');

  it('accepts Bearer and the original "token" scheme, case-insensitively', () => {
    expect(tokens.reject('Bearer s3cret-token')).toBeUndefined();
    expect(tokens.reject('bearer s3cret-token')).toBeUndefined();
    expect(tokens.reject('token s3cret-token')).toBeUndefined();
  });

  it('says why it refuses', () => {
    expect(tokens.reject(undefined)).toMatch(/^missing token/);
    expect(tokens.reject('s3cret-token')).toMatch(/^malformed Authorization header/);
    expect(tokens.reject('Bearer s3cret-tokeN')).toBe('invalid token');
  });

  it('refuses to start with a short token', () => {
    expect(() => new TokenCheck('short')).toThrow('api token must be at least 8 characters long');
  });
});
