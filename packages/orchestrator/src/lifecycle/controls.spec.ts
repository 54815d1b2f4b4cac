import { ErrorCode, KrakenError } from '@kraken/common';
import { DeploymentStatus as S, LifecycleAction as A } from '@kraken/messages';
import type { DeploymentStatus, LifecycleAction } from '@kraken/messages';
import { deploymentRecord, nodeInfo } from '../../test/fixtures.js';
import type { NodeRecord, NodeState } from '../store/records.js';
import { planLifecycle } from './controls.js';

function node(state: NodeState = 'alive'): NodeRecord {
  return { id: 'node-a', info: nodeInfo('node-a'), updateTime: '2025-11-25T12:00:00.000Z', state, orchestrationPriority: null };
}

function refusal(status: DeploymentStatus, action: LifecycleAction, patch: Parameters<typeof deploymentRecord>[0] = {}, on = node()): KrakenError {
  try {
    planLifecycle(deploymentRecord({ status, ...patch }), action, on);
  } catch (error) {
    if (error instanceof KrakenError) return error;
    throw error;
  }
  throw new Error(`expected ${action} of a ${status} deployment to be refused`);
}

describe('planLifecycle', () => {
  it('stops a Running deployment on its node, leaving the Stopped status for the node to report', () => {
    expect(planLifecycle(deploymentRecord({ status: S.Running }), A.Stop, node())).toEqual({ nodeId: 'node-a' });
  });

  it.each([
    [A.Start, S.Stopped, /^start requested: running it again on node-a from what was built, without a build$/],
    [A.Restart, S.Running, /^restart requested: stopping and starting it again on node-a, without a build$/],
    [A.Restart, S.Stopped, /^start requested/],
  ])('%s of a %s deployment begins a run again with Deploying, saying there is no build', (action, status, message) => {
    const plan = planLifecycle(deploymentRecord({ status }), action, node());
    expect(plan.nodeId).toBe('node-a');
    expect(plan.status?.status).toBe(S.Deploying);
    expect(plan.status?.message).toMatch(message);
  });

  it.each([
    [A.Stop, S.Stopped, 'cannot stop deployment hello-1: it is already stopped'],
    [A.Start, S.Running, 'cannot start deployment hello-1: it is already running; restart it to run it afresh'],
    [A.Stop, S.Destroyed, 'cannot stop deployment hello-1: it is Destroyed; deploy its repository again instead'],
    [A.Start, S.Errored, 'cannot start deployment hello-1: it is Errored, so nothing of it runs or is kept to start; redeploy it instead'],
    [A.Stop, S.BuildingDeployment, 'cannot stop deployment hello-1: it is BuildingDeployment; only a Running deployment can be stopped'],
    [A.Start, S.DestructionRequested, 'cannot start deployment hello-1: it is DestructionRequested; only a Stopped deployment can be started'],
    [A.Restart, S.Deploying, 'cannot restart deployment hello-1: it is Deploying; only a Running or Stopped deployment can be restarted'],
  ])('refuses to %s a %s deployment with a Conflict that says why', (action, status, message) => {
    const error = refusal(status, action);
    expect(error.code).toBe(ErrorCode.Conflict);
    expect(error.message).toBe(message);
    expect(error.deploymentId).toBe('hello-1');
  });

  it('refuses a removed deployment', () => {
    expect(refusal(S.Stopped, A.Start, { removedAt: '2025-11-25T13:00:00.000Z' }).message).toBe('cannot start deployment hello-1: it was removed; deploy its repository again instead');
  });

  it('refuses while its node is dead, since only that node holds what was built', () => {
    const error = refusal(S.Stopped, A.Start, {}, node('dead'));
    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(error.message).toMatch(/^cannot start deployment hello-1: its node node-a is not alive, and only that node holds what was built/);
    expect(error.nodeId).toBe('node-a');
  });
});
