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

/** Reads a join token as given (`--join-token`, its file or KRAKEN_JOIN_TOKEN): `K1.<digest>.<secret>`, or a bare secret. */
export function parseJoinToken(text: string, field = '--join-token'): JoinToken {
  const token = text.trim();
  const parts = token.split('.');
  if (parts.length === 3 && parts[0] === PREFIX) {
    const [, caDigest = '', secret = ''] = parts;
    if (!DIGEST.test(caDigest)) throw invalid(field, 'its CA digest (between the dots) is not 43 characters of base64url: copy the whole token the leader printed');
    if (!SECRET.test(secret)) throw invalid(field, 'its secret (after the second dot) is not 16 to 256 characters of A-Z, a-z, 0-9, - and _');
    return { secret, caDigest };
  }
  if (parts.length > 1) throw invalid(field, `is not a join token: expected ${PREFIX}.<CA digest>.<secret> as the leader printed it (kraken token prints it again)`);
  if (!SECRET.test(token)) throw invalid(field, 'is not a join token: expected 16 to 256 characters of A-Z, a-z, 0-9, - and _');
  return { secret: token, caDigest: undefined };
}

function invalid(field: string, problem: string): KrakenError {
  return new KrakenError(ErrorCode.InvalidInput, `${field} ${problem}`, { details: { field } });
}
