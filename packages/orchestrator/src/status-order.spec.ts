import { DeploymentStatus as S } from '@kraken/messages';
import { isStaleStatus } from './status-order.js';

describe('isStaleStatus', () => {
  it.each([
    [S.Running, S.BuildingDeployment],
    [S.Running, S.ValidatingDeploymentData],
    [S.Deploying, S.TestingDeployment],
    [S.BuildingDeployment, S.RetrievingApplicationData],
    [S.DestructionInProgress, S.Running],
    [S.DestructionRequested, S.Deploying],
    [S.Destroyed, S.DestructionInProgress],
    [S.Destroyed, S.Running],
    [S.Destroyed, S.Errored],
    [S.Errored, S.Running],
    [S.Errored, S.BuildingDeployment],
    // a crash-watch Running sent just before a requested stop must not undo it
    [S.Stopped, S.Running],
    [S.Stopped, S.Deploying],
    [S.DestructionInProgress, S.Stopped],
  ])('%s then %s: stale (backwards within one attempt)', (current, reported) => {
    expect(isStaleStatus(current, reported)).toBe(true);
  });

  it.each([
    // the worker validates and clones after the orchestrator delegated
    [S.DelegatingDeployment, S.ValidatingDeploymentData],
    [S.DelegatingDeployment, S.Running],
    [S.BuildingDeployment, S.Running],
    // a redeploy starts a new attempt: the worker's progress counts again
    [S.UpdateRequested, S.ValidatingDeploymentData],
    [S.UpdateRequested, S.BuildingDeployment],
    [S.DeploymentRequested, S.RetrievingApplicationData],
    [S.Running, S.DestructionInProgress],
    [S.DestructionRequested, S.DestructionInProgress],
    [S.DestructionInProgress, S.Destroyed],
    [S.Running, S.Destroyed],
    // anything not yet terminal may fail
    [S.Running, S.Errored],
    [S.DestructionInProgress, S.Errored],
    // a requested stop, and the start the orchestrator began with Deploying
    [S.Running, S.Stopped],
    [S.Deploying, S.Running],
    [S.Deploying, S.Stopped],
    [S.Stopped, S.DestructionInProgress],
    [S.Stopped, S.Errored],
    [S.Stopped, S.Stopped],
    // repeated when a worker is asked twice
    [S.Running, S.Running],
    [S.Errored, S.Errored],
  ])('%s then %s: applied', (current, reported) => {
    expect(isStaleStatus(current, reported)).toBe(false);
  });
});
