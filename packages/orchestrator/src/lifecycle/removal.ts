import { ErrorCode, KrakenError } from '@kraken/common';
import { DeploymentStatus as Status } from '@kraken/messages';
import type { DeploymentRecord } from '../store/records.js';

/**
 * Whether a deployment may be removed from the lists: only one that runs nothing any more
 * (Destroyed, or Errored: a failed build, test or start, or a crash loop its node stopped).
 * Anything else is a Conflict that says what to do first.
 */
export function assertRemovable(deployment: DeploymentRecord): void {
  if (deployment.status === Status.Destroyed || deployment.status === Status.Errored) return;
  throw new KrakenError(
    ErrorCode.Conflict,
    `deployment ${deployment.id} is ${deployment.status}: only a Destroyed or Errored deployment can be removed; cancel it first`,
    { deploymentId: deployment.id },
  );
}

/** A removed deployment is past its retention once it was removed at or before this time (ISO). */
export function retentionCutoff(nowMs: number, retentionMs: number): string {
  return new Date(nowMs - retentionMs).toISOString();
}
