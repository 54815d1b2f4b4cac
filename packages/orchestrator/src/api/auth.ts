import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCode, KrakenError } from '@kraken/common';

/**
 * Checks `Authorization` values. `Bearer <token>` is the documented form; `token <token>` is
 * what the original Kraken clients send, so it is accepted too.
 */
export class TokenCheck {
  private readonly digest: Buffer;

  constructor(token: string) {
    if (token.length < 8) {
      throw new KrakenError(ErrorCode.InvalidConfig, 'api token must be at least 8 characters long');
    }
    this.digest = sha256(token);
  }

  /** Undefined when accepted, else why not (for the 401 message). */
  reject(header: unknown): string | undefined {
    if (typeof header !== 'string' || header.trim() === '') return 'missing token: send Authorization: Bearer <token>';
    const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(header);
    if (match?.[1] === undefined) return 'malformed Authorization header: expected Bearer <token>';
    // comparing digests keeps the time independent of where the strings differ, and of their lengths
    return timingSafeEqual(sha256(match[1]), this.digest) ? undefined : 'invalid token';
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
