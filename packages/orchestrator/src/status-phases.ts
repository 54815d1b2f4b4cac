import type { DeploymentStatus } from '@kraken/messages';
import { DeploymentStatus as Status } from '@kraken/messages';

// A deploy request is out with the worker: it reports its progress or has lost it.
export const deployingStatuses: ReadonlySet<DeploymentStatus> = new Set([
  Status.DelegatingDeployment,
  Status.ValidatingDeploymentData,
  Status.RetrievingApplicationData,
  Status.BuildingDeployment,
  Status.TestingDeployment,
  Status.Deploying,
]);

// Statuses a worker is working through: after a restart the orchestrator waits for its report.
export const destructionStatuses: ReadonlySet<DeploymentStatus> = new Set([
  Status.DestructionRequested,
  Status.DelegatingDestruction,
  Status.DestructionInProgress,
]);
