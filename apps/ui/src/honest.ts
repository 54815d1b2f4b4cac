// What the page may claim about an app and about itself: pure helpers, so unit tests cover them.
import type { ApplicationStatus } from './api/types.js';
import { formatAge, formatMb } from './format.js';

/**
 * Memory in use against the limit the runtime enforces. A runtime that enforces none reports a
 * limit of 0 (the process runtime): that is "no limit", never "of 0 MB" or a peak passed off as one.
 */
export function memoryText(memMb: number | null, maxMemMb: number | null): string {
  if (memMb === null) return '—';
  return maxMemMb === null || maxMemMb <= 0 ? `${formatMb(memMb)} (no limit)` : `${formatMb(memMb)} of ${formatMb(maxMemMb)}`;
}

/** The memory chart's title: the limit it is drawn against, or that there is none. */
export function memoryChartTitle(maxMemMb: number | null | undefined): string {
  return maxMemMb === null || maxMemMb === undefined || maxMemMb <= 0
    ? 'Memory (no limit)'
    : `Memory (limit ${formatMb(maxMemMb)})`;
}

/**
 * A destroyed, stopped or errored app has no process (an errored one was never started, or was
 * removed when its crash loop gave up; a redeploy that fails leaves the old one Running): its last
 * CPU and memory readings are not live numbers.
 */
export function hasLiveNumbers(status: ApplicationStatus): boolean {
  return status !== 'DESTROYED' && status !== 'STOPPED' && status !== 'ERRORED';
}

/** Says since when the API is unreachable, at `now` (ms): the clock time and how long ago. */
export function offlineText(sinceMs: number, nowMs: number): string {
  const at = new Date(sinceMs).toLocaleTimeString();
  return `The Kraken API is unreachable since ${at} (${formatAge((nowMs - sinceMs) / 1000)} ago). What the page shows is how things were then; actions are off until it answers again.`;
}
