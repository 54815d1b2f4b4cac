// Pure helpers for the CPU and memory charts: no React, so unit tests cover them directly.
import type { Deployment } from './api/types.js';

/** One stats report, as statsHistory answers and deploymentChanged implies. */
export interface StatsSample {
  /** Unix seconds. */
  time: number;
  cpuUsage: number;
  memMb: number;
  maxMemMb: number;
}

/** As many as the orchestrator keeps by default: an hour at the workers' 10 s interval. */
const MAX_SAMPLES = 360;

/** The sample a deployment's current stats make, once it has any. */
export function sampleOf(deployment: Pick<Deployment, 'statsTime' | 'cpuUsage' | 'memMb' | 'maxMemMb'>): StatsSample | undefined {
  const { statsTime, cpuUsage, memMb, maxMemMb } = deployment;
  if (statsTime === null || cpuUsage === null || memMb === null) return undefined;
  return { time: statsTime, cpuUsage, memMb, maxMemMb: maxMemMb ?? 0 };
}

/**
 * Both lists as one, ordered by time, one sample per time, the newest `limit` kept. The history
 * query and live events can overlap or arrive in either order; this makes the order irrelevant.
 */
export function mergeSamples(existing: readonly StatsSample[], incoming: readonly StatsSample[], limit = MAX_SAMPLES): StatsSample[] {
  let previous = existing.at(-1)?.time ?? Number.NEGATIVE_INFINITY;
  // the usual case, a live sample newer than all: append without sorting
  const appends = incoming.every((sample) => {
    const newer = sample.time > previous;
    previous = sample.time;
    return newer;
  });
  const merged = appends
    ? [...existing, ...incoming]
    : [...new Map([...existing, ...incoming].map((s) => [s.time, s])).values()].sort((a, b) => a.time - b.time);
  return merged.length > limit ? merged.slice(merged.length - limit) : merged;
}

/** The smallest 1, 2 or 5 times a power of ten at or above `value`: a round top for an axis. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export interface ChartBox {
  width: number;
  height: number;
}

/**
 * The SVG path of a line through the points, time on x (first to last sample across the width)
 * and 0..top on y (0 at the bottom). A lone point becomes a short flat line so it stays visible.
 */
export function linePath(points: readonly { time: number; value: number }[], top: number, box: ChartBox): string {
  const first = points[0];
  const last = points.at(-1);
  if (first === undefined || last === undefined) return '';
  const span = last.time - first.time;
  const y = (value: number) => round(box.height - (Math.min(Math.max(value, 0), top) / top) * box.height);
  if (span <= 0) return `M0 ${y(first.value)} H${box.width}`;
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${round(((p.time - first.time) / span) * box.width)} ${y(p.value)}`).join(' ');
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** "latest 3.2%, lowest 0.5%, highest 10.0% over the last 12m 30s (76 samples)": what a screen reader hears. */
export function summarize(values: readonly { time: number; value: number }[], format: (value: number) => string, formatSpan: (seconds: number) => string): string {
  const last = values.at(-1);
  const first = values[0];
  if (last === undefined || first === undefined) return 'no samples yet';
  let low = last.value;
  let high = last.value;
  for (const { value } of values) {
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  const count = values.length === 1 ? '1 sample' : `${values.length} samples`;
  return `latest ${format(last.value)}, lowest ${format(low)}, highest ${format(high)} over the last ${formatSpan(last.time - first.time)} (${count})`;
}
