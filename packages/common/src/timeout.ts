/**
 * Settles as `work` does or, when `timeoutMs` pass first, with what `onTimeout` returns (rejects
 * with what it throws). The timer is cleared as soon as `work` settles, so a finished wait leaves
 * nothing pending that would keep the process alive.
 *
 * `work` keeps running after a timeout: only its owner can stop it (give it an AbortSignal as well,
 * e.g. `AbortSignal.timeout`). Its late rejection is handled here, never an unhandled rejection.
 */
export async function withTimeout<T, U>(work: PromiseLike<T>, timeoutMs: number, onTimeout: () => U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve, reject) => {
    timer = setTimeout(
      () => {
        try {
          resolve(onTimeout());
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      },
      Math.max(0, timeoutMs),
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves true once `work` settles (either way), false when `timeoutMs` pass first; never rejects. */
export function settlesWithin(work: PromiseLike<unknown>, timeoutMs: number): Promise<boolean> {
  return withTimeout(
    Promise.resolve(work).then(
      () => true,
      () => true,
    ),
    timeoutMs,
    () => false,
  );
}
