/**
 * The life of a deployment, in the order ARCHITECTURE.md gives. Any status may go to `Errored`;
 * `UpdateRequested` starts a redeploy of a new commit and leads back into the deploy path.
 */
export const DeploymentStatus = {
  DeploymentRequested: 'DeploymentRequested',
  ValidatingDeploymentData: 'ValidatingDeploymentData',
  RetrievingApplicationData: 'RetrievingApplicationData',
  DelegatingDeployment: 'DelegatingDeployment',
  BuildingDeployment: 'BuildingDeployment',
  TestingDeployment: 'TestingDeployment',
  Deploying: 'Deploying',
  Running: 'Running',
  /**
   * Stopped on request (`kraken stop`): it keeps its node, image or built folder, port, name and
   * log, runs nothing, and starts again without a build. Neither terminal nor moved by failover.
   */
  Stopped: 'Stopped',
  DestructionRequested: 'DestructionRequested',
  DelegatingDestruction: 'DelegatingDestruction',
  DestructionInProgress: 'DestructionInProgress',
  Destroyed: 'Destroyed',
  UpdateRequested: 'UpdateRequested',
  Errored: 'Errored',
} as const;
export type DeploymentStatus = (typeof DeploymentStatus)[keyof typeof DeploymentStatus];

/** Every status in lifecycle order, `Errored` last; useful for sorting and for UI progress bars. */
export const deploymentStatusOrder: readonly DeploymentStatus[] = Object.freeze(Object.values(DeploymentStatus));

const terminalStatuses: ReadonlySet<DeploymentStatus> = new Set([DeploymentStatus.Destroyed, DeploymentStatus.Errored]);

/**
 * Whether a deployment is stopped on request: nothing of it runs, yet it is no failure, and
 * liveness must neither restart nor move it.
 */
export function isStoppedStatus(status: DeploymentStatus): boolean {
  return status === DeploymentStatus.Stopped;
}

/**
 * A terminal status is one nothing further happens after without a new request: the deployment is
 * gone or failed. `Running` is not terminal: it is the steady state that a stop or update leaves.
 */
export function isTerminalStatus(status: DeploymentStatus): boolean {
  return terminalStatuses.has(status);
}

const REDEPLOY_FAILED = 'redeploy failed: ';

/**
 * A redeploy that failed before the swap leaves the previous version serving: the node reports
 * Running, with this message, instead of Errored. The orchestrator reads it to mark that release failed.
 */
export function redeployFailedMessage(reason: string, previous: string): string {
  return `${REDEPLOY_FAILED}${reason}; ${previous} keeps running`;
}

/** Whether a Running status's message says a redeploy failed and the previous version kept running. */
export function isRedeployFailure(message: string | null | undefined): boolean {
  return message?.startsWith(REDEPLOY_FAILED) === true;
}
