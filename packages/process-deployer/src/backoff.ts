import type { RestartPolicy } from './options.js';

/**
 * How long to wait before restarting an app that just ended. Crashes in a row double the wait up
 * to `maxMs`, so a crash loop costs little CPU; an app that ran for `stableAfterMs` before ending
 * counts as healthy again and restarts after `initialMs`.
 *
 * @param previousMs the wait before the run that just ended; undefined for the first crash
 * @param ranForMs how long that run lasted
 */
export function nextRestartDelay(previousMs: number | undefined, ranForMs: number, policy: RestartPolicy): number {
  if (previousMs === undefined || ranForMs >= policy.stableAfterMs) return policy.initialMs;
  return Math.min(policy.maxMs, Math.max(policy.initialMs, previousMs * 2));
}
