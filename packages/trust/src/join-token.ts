import { ErrorCode, KrakenError } from '@kraken/common';

/** The version prefix of a join token that carries the cluster CA's digest. */
const PREFIX = 'K1';
/** base64url of a SHA-256: 43 characters. */
const DIGEST = /^[A-Za-z0-9_-]{43}$/;
const SECRET = /^[A-Za-z0-9_-]{16,256}$/;

/** A join token read: the secret the leader checks, and the digest of the CA a joiner must find there. */
export interface JoinToken {
  secret: string;
  /** Undefined for a bare secret (tokens from before the cluster CA): the leader cannot be verified then. */
  caDigest: string | undefined;
}

/**
 * The token a leader prints: `K1.<CA digest>.<secret>`. Like Docker Swarm's join tokens, it
 * names the CA, so a machine given it refuses a leader that presents another before sending
 * anything; `.` separates, since base64url uses `-` and `_`.
 */
export function formatJoinToken(secret: string, caDigest: string): string {
  if (!SECRET.test(secret)) throw new KrakenError(ErrorCode.InvalidInput, 'a join token secret is 16 to 256 characters of A-Z, a-z, 0-9, - and _');
  if (!DIGEST.test(caDigest)) throw new KrakenError(ErrorCode.InvalidInput, 'a CA digest is 43 characters of base64url (SHA-256)');
  return `${PREFIX}.${caDigest}.${secret}`;
}

/**
 * Reads a join token as given (`--join-token`, its file or KRAKEN_JOIN_TOKEN): `K1.<digest>.<secret>`
 * as a leader prints it, or anything else as a bare secret (a token from before the cluster CA, or
 * one an operator chose), which names no CA.
 */
export function parseJoinToken(text: string, field = '--join-token'): JoinToken {
  const token = text.trim();
  if (token === '') throw invalid(field, 'is empty: give the token the leader printed (kraken token prints it again)');
  if (!token.startsWith(`${PREFIX}.`)) return { secret: token, caDigest: undefined };
  const [, caDigest = '', secret = '', ...rest] = token.split('.');
  if (rest.length > 0 || !DIGEST.test(caDigest)) throw invalid(field, `is not a whole join token: expected ${PREFIX}.<CA digest of 43 characters>.<secret> as the leader printed it (kraken token prints it again)`);
  if (!SECRET.test(secret)) throw invalid(field, 'has a secret (after the second dot) that is not 16 to 256 characters of A-Z, a-z, 0-9, - and _');
  return { secret, caDigest };
}

function invalid(field: string, problem: string): KrakenError {
  return new KrakenError(ErrorCode.InvalidInput, `${field} ${problem}`, { details: { field } });
}
