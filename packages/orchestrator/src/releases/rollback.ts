import { ErrorCode, KEPT_VERSIONS, KrakenError } from '@kraken/common';
import { DeploymentStatus as Status } from '@kraken/messages';
import type { DeploymentRecord } from '../store/records.js';
import type { ReleaseRecord } from './release-record.js';
import { ReleaseResult } from './release-record.js';

/** What a rollback deploys, and the words its release and status record. */
export interface RollbackPlan {
  /** The full commit to run again. */
  commit: string;
  /** The new release's trigger: `rollback to <commit7>`. */
  trigger: string;
  /** The status message of the request. */
  reason: string;
}

const COMMIT = /^[0-9a-f]{4,64}$/i;

/**
 * The commits a node keeps a build of for a deployment: those of its last KEPT_VERSIONS successful
 * releases, newest first (the deployers keep the same ones: each successful deploy of a commit
 * makes it the newest).
 */
export function keptCommits(releases: readonly ReleaseRecord[]): string[] {
  const commits: string[] = [];
  for (const release of [...releases].reverse()) {
    if (release.result !== ReleaseResult.Succeeded || release.commit === null || commits.includes(release.commit)) continue;
    commits.push(release.commit);
    if (commits.length === KEPT_VERSIONS) break;
  }
  return commits;
}

/** The commits a rollback of the deployment can run now, newest first: none unless it is RUNNING, and never the running one. */
export function rollbackCommits(deployment: Pick<DeploymentRecord, 'status' | 'commit' | 'removedAt'>, releases: readonly ReleaseRecord[]): string[] {
  if (deployment.status !== Status.Running || deployment.removedAt !== null) return [];
  return keptCommits(releases).filter((commit) => commit !== deployment.commit);
}

/**
 * Which earlier version a rollback of a running deployment runs: `wanted` (a commit or an
 * abbreviation of at least 4 hex digits) when it is one of the kept versions, else the newest kept
 * one before the running commit. CONFLICT for a deployment that is not RUNNING, has no earlier
 * successful release, or already runs the commit asked for; NOT_FOUND for a commit that is not one of
 * the kept ones; INVALID_INPUT for one that is not hex or names several.
 */
export function planRollback(deployment: DeploymentRecord, releases: readonly ReleaseRecord[], wanted?: string): RollbackPlan {
  const { id } = deployment;
  if (deployment.removedAt !== null) {
    throw new KrakenError(ErrorCode.Conflict, `deployment ${id} was removed; deploy its repository again instead`, { deploymentId: id });
  }
  if (deployment.status !== Status.Running) {
    throw new KrakenError(ErrorCode.Conflict, `deployment ${id} is ${deployment.status}; only a RUNNING deployment can be rolled back (redeploy it instead)`, {
      deploymentId: id,
    });
  }
  const running = deployment.commit;
  const earlier = rollbackCommits(deployment, releases);
  const listed = earlier.length === 0 ? 'none' : earlier.map((commit) => commit.slice(0, 7)).join(', ');
  const commit = wanted === undefined ? earlier[0] : pick(id, wanted.trim(), running, earlier, listed);
  if (commit === undefined) {
    throw new KrakenError(ErrorCode.Conflict, `deployment ${id} has no earlier successful release to roll back to`, { deploymentId: id });
  }
  const short = commit.slice(0, 7);
  return { commit, trigger: `rollback to ${short}`, reason: `rolling back to ${short}` };
}

function pick(deploymentId: string, wanted: string, running: string | null, earlier: string[], listed: string): string {
  if (!COMMIT.test(wanted)) {
    throw new KrakenError(ErrorCode.InvalidInput, `commit: expected 4 to 64 hex digits naming a commit, got ${JSON.stringify(wanted.slice(0, 80))}`, {
      deploymentId,
      details: { field: 'commit' },
    });
  }
  const prefix = wanted.toLowerCase();
  if (running?.toLowerCase().startsWith(prefix) === true) {
    throw new KrakenError(ErrorCode.Conflict, `deployment ${deploymentId} already runs ${running.slice(0, 7)}`, { deploymentId, details: { field: 'commit' } });
  }
  const matches = earlier.filter((commit) => commit.toLowerCase().startsWith(prefix));
  if (matches.length > 1) {
    throw new KrakenError(ErrorCode.InvalidInput, `commit ${wanted} names several kept versions (${matches.map((commit) => commit.slice(0, 7)).join(', ')}); give more digits`, {
      deploymentId,
      details: { field: 'commit' },
    });
  }
  const [match] = matches;
  if (match === undefined) {
    throw new KrakenError(
      ErrorCode.NotFound,
      `commit ${wanted} is not one of the versions kept for a rollback of deployment ${deploymentId} (the last ${String(KEPT_VERSIONS)} successful releases; earlier ones: ${listed}); to deploy another commit, redeploy`,
      { deploymentId, details: { field: 'commit' } },
    );
  }
  return match;
}
