import { ErrorCode, KrakenError } from '@kraken/common';
import type { DeploymentStatus } from '@kraken/messages';
import { DeploymentStatus as Status, LifecycleAction } from '@kraken/messages';
import type { DeploymentRecord, NodeRecord } from '../store/records.js';
import { NodeState } from '../store/records.js';

/** What the orchestrator does for a stop, start or restart the user asked for. */
export interface LifecyclePlan {
  /** The node that holds the deployment's image or built folder: the command goes there. */
  nodeId: string;
  /** The status to record before sending it (a start begins a run again); none for a stop, which the node reports. */
  status?: { status: DeploymentStatus; message: string };
}

const verbs: Readonly<Record<LifecycleAction, string>> = {
  [LifecycleAction.Stop]: 'stop',
  [LifecycleAction.Start]: 'start',
  [LifecycleAction.Restart]: 'restart',
};

/**
 * Decides whether `action` may apply to `deployment` as it is, and how. A stop applies to a Running
 * deployment only, a start to a Stopped one only, a restart to either (restarting a stopped one
 * starts it). Neither is idempotent: stopping a stopped deployment or starting a running one is a
 * Conflict that says so, as is anything on a deployment that is deploying, destroyed, errored or
 * removed. The deployment's own node must be alive, since only it holds what was built.
 */
export function planLifecycle(deployment: DeploymentRecord, action: LifecycleAction, node: NodeRecord | undefined): LifecyclePlan {
  const { id, status } = deployment;
  const verb = verbs[action];
  const conflict = (why: string): KrakenError => new KrakenError(ErrorCode.Conflict, `cannot ${verb} deployment ${id}: ${why}`, { deploymentId: id, details: { status, action } });
  if (deployment.removedAt !== null) throw conflict('it was removed; deploy its repository again instead');
  if (status === Status.Destroyed) throw conflict('it is Destroyed; deploy its repository again instead');
  if (status === Status.Errored) throw conflict('it is Errored, so nothing of it runs or is kept to start; redeploy it instead');
  if (action === LifecycleAction.Stop && status === Status.Stopped) throw conflict('it is already stopped');
  if (action === LifecycleAction.Start && status === Status.Running) throw conflict('it is already running; restart it to run it afresh');
  const allowed: readonly DeploymentStatus[] = action === LifecycleAction.Stop ? [Status.Running] : action === LifecycleAction.Start ? [Status.Stopped] : [Status.Running, Status.Stopped];
  if (!allowed.includes(status)) {
    throw conflict(`it is ${status}; only a ${allowed.join(' or ')} deployment can be ${action === LifecycleAction.Stop ? 'stopped' : action === LifecycleAction.Start ? 'started' : 'restarted'}`);
  }
  const nodeId = deployment.nodeId;
  if (nodeId === null || node === undefined || node.state === NodeState.Dead) {
    throw new KrakenError(
      ErrorCode.Unavailable,
      `cannot ${verb} deployment ${id}: its node ${nodeId ?? '(none)'} is not alive, and only that node holds what was built; try again once it is back, or redeploy it`,
      { deploymentId: id, ...(nodeId === null ? {} : { nodeId }) },
    );
  }
  if (action === LifecycleAction.Stop) return { nodeId };
  const message =
    action === LifecycleAction.Restart && status === Status.Running
      ? `restart requested: stopping and starting it again on ${nodeId}, without a build`
      : `start requested: running it again on ${nodeId} from what was built, without a build`;
  return { nodeId, status: { status: Status.Deploying, message } };
}
