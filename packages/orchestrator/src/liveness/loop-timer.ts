/** A gap between loop passes this long means the process was frozen, not that every node went quiet. */
const STALL_MS = 3_000;

/**
 * Runs `pass` every `intervalMs` (unref'd: it keeps no process alive). A gap between passes much
 * longer than the interval means the process was frozen (SIGSTOP, a suspended machine, a long GC)
 * and heard no heartbeat meanwhile: `frozen` runs first, so nodes are not judged by that silence.
 */
export function startLoopTimer(intervalMs: number, pass: () => void, frozen: (frozenMs: number) => void): NodeJS.Timeout {
  let lastPassAt = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    if (now - lastPassAt > Math.max(5 * intervalMs, STALL_MS)) frozen(now - lastPassAt);
    lastPassAt = now;
    pass();
  }, intervalMs);
  timer.unref();
  return timer;
}
