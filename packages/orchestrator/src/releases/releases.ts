import type { Clock } from '@kraken/common';
import { ErrorCode, KrakenError, isoTime, systemClock } from '@kraken/common';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import type { DeploymentRecord, StatusHistoryEntry } from '../store/records.js';
import type { ReleaseRecord } from './release-record.js';
import { ReleaseResult, settle } from './release-record.js';
import { ReleaseStore } from './release-store.js';

/** Triggers the orchestrator itself records; other features pass their own words. */
export const ReleaseTrigger = {
  Created: 'deploy by API',
  Redeploy: 'redeploy',
  Watch: 'new commit on branch (watch)',
  Poll: 'new commit on branch (pollRedeploy)',
  Adopted: 'adopted from a node',
  /** Followed by what changed (names only): the app restarts from its build with other settings. */
  Settings: 'settings changed',
} as const;

const MAX_TRIGGER_LENGTH = 200;

/**
 * Each build of a deployment is a release: numbered per deployment, with what triggered it, its
 * result, and the history rows and log lines stored while it was current (the store tags them).
 *
 * A move to another node (its node died, a port clash) is not a release: it places the same
 * release again, with the same commit and settings, and its statuses and log lines stay on the
 * release being placed. A release is what a user (or the watcher, or a settings change) asked for.
 */
export class Releases {
  private readonly table: ReleaseStore;

  constructor(
    private readonly store: OrchestratorStore,
    private readonly clock: Clock = systemClock,
  ) {
    this.table = new ReleaseStore(store);
  }

  /**
   * Starts the next release of a deployment: every status and log line from now on is recorded
   * on it. A release still building is superseded. Call it before the deploy request's first
   * status is stored. `commit` is null when the worker will resolve the branch head.
   */
  startRelease(deploymentId: string, commit: string | null, trigger: string): ReleaseRecord {
    const words = trigger.trim();
    if (words === '' || words.length > MAX_TRIGGER_LENGTH) {
      throw new KrakenError(ErrorCode.InvalidInput, `trigger: expected 1 to ${MAX_TRIGGER_LENGTH} characters saying what caused the release, got ${JSON.stringify(trigger.slice(0, 80))}`, {
        deploymentId,
        details: { field: 'trigger' },
      });
    }
    this.store.deployments.require(deploymentId);
    const now = isoTime(this.clock);
    return this.store.changes.transaction((): ReleaseRecord => {
      const previous = this.table.latestOf(deploymentId);
      const number = (previous?.number ?? 0) + 1;
      if (previous?.result === ReleaseResult.Building) {
        this.table.change(previous, { result: ReleaseResult.Superseded, endedAt: now, reason: `superseded by release ${number} (${words})` });
      }
      const release: ReleaseRecord = { deploymentId, number, commit, trigger: words, startedAt: now, endedAt: null, result: ReleaseResult.Building, reason: null };
      this.table.add(release);
      return release;
    })();
  }

  /** Settles the deployment's current release by its new status (see settle()); returns it when it changed. */
  follow(deployment: DeploymentRecord): ReleaseRecord | undefined {
    const current = this.table.latestOf(deployment.id);
    if (current === undefined) return undefined;
    const settlement = settle(current, deployment, deployment.updatedAt);
    return settlement === undefined ? undefined : this.table.change(current, settlement);
  }

  /** A deployment's releases, oldest first; NOT_FOUND for an unknown deployment. */
  list(deploymentId: string): ReleaseRecord[] {
    this.store.deployments.require(deploymentId);
    return this.table.list(deploymentId);
  }

  /** One release; NOT_FOUND for an unknown deployment or number. */
  require(deploymentId: string, number: number): ReleaseRecord {
    this.store.deployments.require(deploymentId);
    const release = this.table.get(deploymentId, number);
    if (release === undefined) {
      throw new KrakenError(ErrorCode.NotFound, `deployment ${deploymentId} has no release ${number}`, { deploymentId, details: { field: 'release' } });
    }
    return release;
  }

  /** The statuses recorded while the release was current, oldest first. */
  timeline(release: ReleaseRecord): StatusHistoryEntry[] {
    return this.store.deployments.history(release.deploymentId).filter((entry) => entry.release === release.number);
  }
}
