import type { DeploymentStatus } from '@kraken/messages';
import { DeploymentStatus as Status, isRedeployFailure } from '@kraken/messages';

/** How a release ended, or that it has not yet. */
export const ReleaseResult = {
  /** Cloning, building, testing or starting: not yet Running. */
  Building: 'building',
  /** Reached Running. It keeps this result when newer releases replace it (they can roll back to it). */
  Succeeded: 'succeeded',
  /** Ended Errored before it ever ran; `reason` says why. */
  Failed: 'failed',
  /** A newer release started before this one was Running. */
  Superseded: 'superseded',
  /** The deployment was destroyed before this release was Running. */
  Cancelled: 'cancelled',
} as const;
export type ReleaseResult = (typeof ReleaseResult)[keyof typeof ReleaseResult];

/** One build of a deployment. */
export interface ReleaseRecord {
  deploymentId: string;
  /** 1, 2, 3 per deployment, in the order they started. */
  number: number;
  /** The commit built; null until the worker has resolved the branch head. */
  commit: string | null;
  /** What caused it, in words ("deploy by API", "redeploy", "new commit on branch (watch)"). */
  trigger: string;
  startedAt: string;
  /** When it got its final result; null while building. */
  endedAt: string | null;
  result: ReleaseResult;
  /** Why it failed, or what superseded it. */
  reason: string | null;
}

/** What changes on a release when its deployment reaches a status. */
export interface ReleaseSettlement {
  result?: ReleaseResult;
  endedAt?: string;
  reason?: string | null;
  commit?: string;
}

/**
 * What the deployment's new status means for its current release: Running settles it as
 * succeeded, Errored as failed, Destroyed as cancelled, but only while it is still building. Later
 * statuses (a move to another node, a crash after it ran) belong to the release's timeline without
 * changing how its build ended. The commit is filled in once the worker reports it.
 */
export function settle(
  release: ReleaseRecord,
  deployment: { status: DeploymentStatus; statusMessage: string | null; commit: string | null },
  at: string,
): ReleaseSettlement | undefined {
  const settlement: ReleaseSettlement = {};
  // a redeploy that failed before the swap reports Running: the previous release still serves, and
  // the commit it reports is that release's
  const failedRedeploy = deployment.status === Status.Running && isRedeployFailure(deployment.statusMessage);
  if (release.commit === null && deployment.commit !== null && !failedRedeploy) settlement.commit = deployment.commit;
  if (release.result === ReleaseResult.Building) {
    const result = failedRedeploy ? ReleaseResult.Failed : finalResults.get(deployment.status);
    if (result !== undefined) {
      settlement.result = result;
      settlement.endedAt = at;
      if (result === ReleaseResult.Failed) settlement.reason = deployment.statusMessage;
    }
  }
  return Object.keys(settlement).length === 0 ? undefined : settlement;
}

const finalResults: ReadonlyMap<DeploymentStatus, ReleaseResult> = new Map([
  [Status.Running, ReleaseResult.Succeeded],
  [Status.Errored, ReleaseResult.Failed],
  [Status.Destroyed, ReleaseResult.Cancelled],
]);

/** How long it took (until now while it builds), in milliseconds. */
export function releaseDurationMs(release: ReleaseRecord, now: number): number {
  const end = release.endedAt === null ? now : Date.parse(release.endedAt);
  return Math.max(0, end - Date.parse(release.startedAt));
}
