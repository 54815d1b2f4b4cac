import { DeploymentStatus, deploymentStatusOrder, isStoppedStatus, isTerminalStatus } from './status.js';

describe('DeploymentStatus', () => {
  it('uses each name as its own wire value', () => {
    for (const [key, value] of Object.entries(DeploymentStatus)) expect(value).toBe(key);
  });

  it('lists every status once, in lifecycle order, Errored last', () => {
    expect(deploymentStatusOrder).toEqual([
      'DeploymentRequested',
      'ValidatingDeploymentData',
      'RetrievingApplicationData',
      'DelegatingDeployment',
      'BuildingDeployment',
      'TestingDeployment',
      'Deploying',
      'Running',
      'Stopped',
      'DestructionRequested',
      'DelegatingDestruction',
      'DestructionInProgress',
      'Destroyed',
      'UpdateRequested',
      'Errored',
    ]);
    expect(new Set(deploymentStatusOrder).size).toBe(Object.keys(DeploymentStatus).length);
    expect(Object.isFrozen(deploymentStatusOrder)).toBe(true);
  });

  it('treats only Destroyed and Errored as terminal', () => {
    const terminal = deploymentStatusOrder.filter((status) => isTerminalStatus(status));
    expect(terminal).toEqual([DeploymentStatus.Destroyed, DeploymentStatus.Errored]);
  });

  it('treats Stopped as stopped but not terminal: it keeps its node, port and name', () => {
    expect(deploymentStatusOrder.filter((status) => isStoppedStatus(status))).toEqual([DeploymentStatus.Stopped]);
    expect(isTerminalStatus(DeploymentStatus.Stopped)).toBe(false);
  });
});
