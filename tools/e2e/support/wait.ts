import { setTimeout as sleep } from 'node:timers/promises';

/** Thrown by an `eventually` check when waiting longer cannot help (e.g. a deployment ERRORED). */
export class StopWaiting extends Error {
  override readonly name = 'StopWaiting';
}

/**
 * Polls `check` (sync or async) until it returns something other than undefined/false/null and
 * returns that; after `timeoutMs` it fails naming `what` and the last error `check` threw, so a
 * timed-out wait says what it saw. A StopWaiting thrown by `check` ends the wait at once.
 */
export async function eventually<T>(
  check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  what: string,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail =
        lastError === undefined
          ? ''
          : `; last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** Runs every cleanup step even when earlier ones fail, then reports the failures together. */
export async function cleanupAll(steps: readonly (readonly [string, () => Promise<unknown>])[]): Promise<void> {
  const failures: string[] = [];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (failures.length > 0) console.warn(`e2e cleanup: ${failures.length} step(s) failed:\n${failures.join('\n')}`);
}
