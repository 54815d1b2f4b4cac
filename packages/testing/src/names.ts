import { randomBytes } from 'node:crypto';
import { ErrorCode, KrakenError } from '@kraken/common';

// One id per test process, so names from different runs (and from parallel jest workers) never collide
// even on a long-lived shared broker; the counter keeps names within one process distinct.
const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
let counter = 0;

const allowedPrefix = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/**
 * A queue/exchange name no other test (in this run or any other) will use, e.g.
 * `uniqueName('deploy')` -> `deploy.lq3k9x1a2b3c.1`.
 */
export function uniqueName(prefix: string): string {
  if (!allowedPrefix.test(prefix)) {
    throw new KrakenError(
      ErrorCode.InvalidInput,
      `uniqueName: prefix ${JSON.stringify(prefix)} must be 1-100 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit`,
      { details: { field: 'prefix' } },
    );
  }
  counter += 1;
  return `${prefix}.${runId}.${counter}`;
}
