import { setTimeout as sleep } from 'node:timers/promises';

/** Thrown by an `eventually` probe when waiting longer cannot help (e.g. a deployment ERRORED). */
export class StopWaiting extends Error {
  override readonly name = 'StopWaiting';
}

/**
 * Polls `probe` until it returns something other than undefined, null or false, and returns that.
 * After `timeoutMs` it fails naming `what` and the last error the probe threw, so a timed-out wait
 * says what it saw. A StopWaiting thrown by the probe ends the wait at once.
 */
export async function eventually<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      last = error;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? last.message : last === undefined ? undefined : JSON.stringify(last);
      throw new Error(`${what} did not happen within ${String(timeoutMs)} ms${why === undefined ? '' : `: ${why}`}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Runs `assertion` (expect calls) until it passes, every `intervalMs`, for up to `timeoutMs`; then
 * fails with the assertion's own last error, so the report shows what expect saw.
 */
export async function eventuallyPasses(
  assertion: () => void | Promise<void>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  let last: unknown;
  try {
    await eventually(
      async () => {
        try {
          await assertion();
          return true;
        } catch (error) {
          last = error;
          throw error;
        }
      },
      timeoutMs,
      'the assertion',
      intervalMs,
    );
  } catch (error) {
    throw last ?? error;
  }
}
