import { DeploymentStatus } from '@kraken/messages';
import type { DeployStep } from '@kraken/runtime';

// A Record over DeployStep, so a new deployer step fails to compile until it is mapped.
const statusOfStepTable: Readonly<Record<DeployStep, DeploymentStatus | undefined>> = {
  clone: DeploymentStatus.RetrievingApplicationData,
  manifest: DeploymentStatus.RetrievingApplicationData,
  build: DeploymentStatus.BuildingDeployment,
  test: DeploymentStatus.TestingDeployment,
  run: DeploymentStatus.Deploying,
  // Running is reported when deploy() resolves, with the port, url and commit it returns
  ready: undefined,
};

/** The deployment status a deployer step starts, or undefined when the step does not change it. */
export function statusOfStep(step: DeployStep): DeploymentStatus | undefined {
  return statusOfStepTable[step];
}
