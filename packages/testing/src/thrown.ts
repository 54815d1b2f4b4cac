/** What `work` throws, or undefined when it returns: to match a synchronous error's fields (`toMatchObject`). */
export function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  return undefined;
}
