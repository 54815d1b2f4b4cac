import { formatJoinToken, parseJoinToken } from './join-token.js';

const DIGEST = 'q'.repeat(43);
const SECRET = 'Zx9_-abcdefghijklmnopqrstuvwxyz0123456789AB';

describe('join tokens', () => {
  it('carries the CA digest and the secret, and reads back what it wrote', () => {
    const token = formatJoinToken(SECRET, DIGEST);
    expect(token).toBe(`K1.${DIGEST}.${SECRET}`);
    expect(parseJoinToken(` ${token}\n`)).toEqual({ secret: SECRET, caDigest: DIGEST });
  });

  it('reads anything else as a bare secret (a token from before the cluster CA, or one an operator chose), naming no CA', () => {
    expect(parseJoinToken('0123456789abcdef0123456789abcdef')).toEqual({ secret: '0123456789abcdef0123456789abcdef', caDigest: undefined });
    expect(parseJoinToken(' classroom.2026 ')).toEqual({ secret: 'classroom.2026', caDigest: undefined });
  });

  it.each([
    ['', /is empty/],
    [`K1.${'q'.repeat(42)}.${SECRET}`, /is not a whole join token: expected K1.<CA digest/],
    [`K1.${DIGEST}.bad secret with spaces`, /secret .* is not 16 to 256/],
    [`K1.${DIGEST}`, /has a secret .* that is not 16 to 256/],
    [`K1.${DIGEST}.${SECRET}.more`, /is not a whole join token/],
  ])('refuses %j naming the setting and what is wrong', (text, problem) => {
    expect(() => parseJoinToken(text, '--join-token-file')).toThrow(problem);
    expect(() => parseJoinToken(text, '--join-token-file')).toThrow(/^--join-token-file /);
  });

  it('refuses to write a token from a digest or secret it could not read back', () => {
    expect(() => formatJoinToken('has.dot.inside.it-0123456789', DIGEST)).toThrow(/secret/);
    expect(() => formatJoinToken(SECRET, 'short')).toThrow(/CA digest/);
  });
});
