import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCode, KrakenError } from '@kraken/common';

/**
 * Checks `Authorization` values. `Bearer <token>` is the documented form; `token <token>` is
 * what the original Kraken clients send, so it is accepted too.
 */
export class TokenCheck {
  private readonly digest: Buffer;

  /**
   * `what` names the secret in the configuration error (`api token`, `join token`).
   * `allowMissing` accepts requests that send no token at all (`--insecure-no-auth`); a token
   * that is sent must still be right, so a misconfigured client is not silently let through.
   */
  constructor(
    token: string,
    what = 'api token',
    private readonly allowMissing = false,
  ) {
    if (token.length < 8) {
      throw new KrakenError(ErrorCode.InvalidConfig, `${what} must be at least 8 characters long`);
    }
    this.digest = sha256(token);
  }

  /** Undefined when accepted, else why not (for the 401 message). */
  reject(header: unknown): string | undefined {
    if (typeof header !== 'string' || header.trim() === '')
      return this.allowMissing ? undefined : 'missing token: send Authorization: Bearer <token>';
    const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(header);
    if (match?.[1] === undefined) return 'malformed Authorization header: expected Bearer <token>';
    return this.matches(match[1]) ? undefined : 'invalid token';
  }

  /** Whether `candidate` is the token itself. */
  matches(candidate: string): boolean {
    // comparing digests keeps the time independent of where the strings differ, and of their lengths
    return timingSafeEqual(sha256(candidate), this.digest);
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
