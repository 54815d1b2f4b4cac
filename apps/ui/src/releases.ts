import type { Release, ReleaseResult } from './api/types.js';
import { formatAge } from './format.js';

const resultTags: Record<ReleaseResult, { label: string; color: string }> = {
  // the colours statusColor gives a deployment (the preset success/error tags fall short of AA contrast)
  BUILDING: { label: 'Building', color: 'processing' },
  SUCCEEDED: { label: 'Succeeded', color: 'green' },
  FAILED: { label: 'Failed', color: 'red' },
  SUPERSEDED: { label: 'Superseded', color: 'default' },
  CANCELLED: { label: 'Cancelled', color: 'default' },
};

/** How a release's result reads, and the colour of its tag. */
export function releaseResultTag(result: ReleaseResult): { label: string; color: string } {
  return resultTags[result];
}

/**
 * How long a release took: "42s", "3m 20s"; a release still building counts up to `now` (Unix
 * seconds), so the table need not ask the API every second.
 */
export function releaseDuration(release: Pick<Release, 'startedAt' | 'endedAt' | 'durationMs'>, now: number): string {
  if (release.endedAt !== null) return formatAge(release.durationMs / 1000);
  return `${formatAge(now - release.startedAt)} so far`;
}

/** Newest first: the release a user came for is usually the latest. */
export function newestFirst(releases: readonly Release[]): Release[] {
  return [...releases].sort((a, b) => b.number - a.number);
}
