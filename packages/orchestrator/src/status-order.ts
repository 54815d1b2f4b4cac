import type { DeploymentStatus } from '@kraken/messages';
import { DeploymentStatus as Status } from '@kraken/messages';

/**
 * How far a deploy attempt has got, by the status that says so. An attempt starts with a status
 * the orchestrator sets (DeploymentRequested, DelegatingDeployment, or UpdateRequested for a
 * redeploy), all rank 0: what the worker then reports (validating, cloning, building... running)
 * only moves forward, and a destruction only moves towards Destroyed. ARCHITECTURE.md lists
 * Validating and Retrieving before Delegating, but the worker reports them after the
 * orchestrator delegated, so here they follow the start of the attempt.
 */
const rank: Readonly<Record<DeploymentStatus, number>> = {
  [Status.DeploymentRequested]: 0,
  [Status.DelegatingDeployment]: 0,
  [Status.UpdateRequested]: 0,
  [Status.ValidatingDeploymentData]: 1,
  [Status.RetrievingApplicationData]: 2,
  [Status.BuildingDeployment]: 3,
  [Status.TestingDeployment]: 4,
  [Status.Deploying]: 5,
  [Status.Running]: 6,
  // a stop follows Running; a start or restart begins again with the Deploying the orchestrator sets
  [Status.Stopped]: 7,
  [Status.DestructionRequested]: 8,
  [Status.DelegatingDestruction]: 9,
  [Status.DestructionInProgress]: 10,
  [Status.Destroyed]: 11,
  [Status.Errored]: 11,
};

/**
 * Whether a status a worker `reported` is stale given the deployment's `current` one: it would
 * move the deployment backwards within one attempt (a "BuildingDeployment" arriving after
 * "Running", because a redelivery reordered two messages). Such a status is old news and must not
 * overwrite the newer one.
 *
 * - The same status again is not stale (a worker repeats its status when asked twice).
 * - `Errored` may follow any non-terminal status.
 * - After Stopped, a Running is stale (a crash-watch report sent before the stop): a start is
 *   asked for by the orchestrator, which sets Deploying itself, so the Running that follows is news.
 * - After a terminal status (Destroyed, Errored) nothing a worker reports is news: a new attempt
 *   starts only with a status the orchestrator sets (UpdateRequested on a redeploy), which this
 *   check never sees.
 */
export function isStaleStatus(current: DeploymentStatus, reported: DeploymentStatus): boolean {
  if (reported === current) return false;
  if (current === Status.Destroyed || current === Status.Errored) return true;
  if (reported === Status.Errored) return false;
  return rank[reported] < rank[current];
}
