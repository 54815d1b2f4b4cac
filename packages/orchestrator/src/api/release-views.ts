import { redactCredentials } from '@kraken/common';
import type { ReleaseRecord } from '../releases/release-record.js';
import { releaseDurationMs } from '../releases/release-record.js';
import type { StatusHistoryEntry } from '../store/records.js';
import type { Release } from './schema/release-types.js';
import type { Shape } from './schema/types.js';
import { historyView, unixSeconds } from './views.js';

/** A release as the API shows it; `now` (ms) measures one still building; `rollbackTarget`: its commit is one a rollback can run now. */
export function releaseView(release: ReleaseRecord, timeline: readonly StatusHistoryEntry[], now: number, rollbackTarget = false): Shape<Release> {
  return {
    deploymentId: release.deploymentId,
    number: release.number,
    commit: release.commit,
    trigger: release.trigger,
    startedAt: unixSeconds(release.startedAt),
    endedAt: release.endedAt === null ? null : unixSeconds(release.endedAt),
    durationMs: releaseDurationMs(release, now),
    result: release.result,
    reason: release.reason === null ? null : redactCredentials(release.reason),
    timeline: timeline.map(historyView),
    rollbackTarget,
  };
}
