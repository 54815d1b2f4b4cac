import { isWorthAnotherClient } from './live.js';

describe('isWorthAnotherClient', () => {
  it('gives up for good only when the API refused the token', () => {
    expect(isWorthAnotherClient({ code: 4403, reason: 'Forbidden' })).toBe(false);
  });

  it('starts another client after the closes graphql-ws deems fatal', () => {
    // 4500: an internal error of a leader mid-takeover; 1011: an internal error at the socket level
    for (const code of [4500, 1011, 4400, 4004]) expect(isWorthAnotherClient({ code, reason: '' })).toBe(true);
    expect(isWorthAnotherClient(new Error('socket hang up'))).toBe(true);
  });
});
