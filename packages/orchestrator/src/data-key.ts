import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ErrorCode, KrakenError } from '@kraken/common';

/** What every sealed value starts with: a value without it was stored before sealing existed. */
export const SEALED_PREFIX = 'enc:v1:';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Whether `stored` is a sealed value (else it is clear text from before sealing existed). */
export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

/**
 * The cluster's data key: AES-256-GCM over the secrets the store keeps (env values, git credentials,
 * tokens), so that the database file alone (a copy, a backup, `sqlite3` on it) shows none of them.
 * It lives in the secrets file beside the database, never in the database, and goes to standbys in
 * their membership grant. `source` names where the key came from, for the errors.
 *
 * A sealed value is `enc:v1:` + base64url(IV (12 random bytes) | ciphertext | tag (16 bytes)). The
 * `context` (which column it is) is bound in as additional data, so a value copied into another
 * column does not open there.
 */
export class DataKey {
  private constructor(
    private readonly key: Buffer,
    /** Where the key is kept (the secrets file, or "the leader's membership grant"). */
    readonly source: string,
  ) {}

  static generate(source: string): DataKey {
    return new DataKey(randomBytes(KEY_BYTES), source);
  }

  /** The key as kept in the secrets file; a malformed one is an InvalidConfig error naming `source`. */
  static fromText(text: unknown, source: string): DataKey {
    const key = typeof text === 'string' && /^[A-Za-z0-9_-]+$/.test(text) ? Buffer.from(text, 'base64url') : undefined;
    if (key?.length !== KEY_BYTES) {
      throw new KrakenError(ErrorCode.InvalidConfig, `${source}: dataKey: expected ${KEY_BYTES} bytes in base64url (43 characters)`, {
        details: { file: source },
      });
    }
    return new DataKey(key, source);
  }

  /** The key as kept in the secrets file and sent in a membership grant. */
  toText(): string {
    return this.key.toString('base64url');
  }

  /** The same key, said to come from elsewhere (a grant's key once kept in the secrets file). */
  keptIn(source: string): DataKey {
    return new DataKey(this.key, source);
  }

  equals(other: DataKey): boolean {
    return this.key.equals(other.key);
  }

  /**
   * A key of its own for `purpose` (HKDF-SHA256), e.g. one node's pulse key: whoever holds the data
   * key (the leader, any standby that takes over) derives the same one, and it gives nothing of this key away.
   */
  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `kraken:${purpose}`, KEY_BYTES));
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /**
   * The clear text of a sealed value. A value sealed with another key, for another context, or
   * altered, is a KrakenError naming the key's source: never garbage. Clear text from before sealing
   * existed is returned as it is (the store seals it on the leader's next start).
   */
  open(stored: string, context: string): string {
    if (!isSealed(stored)) return stored;
    const bytes = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw this.cannotOpen(context, 'it is too short to be a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw this.cannotOpen(context, 'it was sealed with another data key, or altered');
    }
  }

  /** A key that ends up in a log line or a JSON answer by mistake shows where it is kept, never itself. */
  toJSON(): string {
    return `[data key from ${this.source}]`;
  }

  [inspect.custom](): string {
    return this.toJSON();
  }

  private cannotOpen(context: string, why: string): KrakenError {
    return new KrakenError(
      ErrorCode.InvalidConfig,
      `cannot open a secret (${context}) with the data key from ${this.source}: ${why}. Restore the secrets file kept with this database (a backup needs both)`,
      { details: { file: this.source, context } },
    );
  }
}
