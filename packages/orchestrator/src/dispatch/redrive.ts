import type { Logger } from '@kraken/common';
import { DeploymentStatus as Status, MessageType, createMessage, isStoppedStatus, isTerminalStatus } from '@kraken/messages';
import type { LeaderTerm } from '../leadership/leader-term.js';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import { NodeState } from '../store/records.js';
import type { NodeCommands } from './node-commands.js';
import type { WorkSender } from './work-sender.js';

export interface RedriveOptions {
  store: OrchestratorStore;
  logger: Logger;
  term: Pick<LeaderTerm, 'epoch' | 'meta'>;
  commands: Pick<NodeCommands, 'send'>;
  work: Pick<WorkSender, 'placeAndRequest' | 'sendRequest'>;
  /** Moves the apps of a node that is gone (NodeTransitions.evacuate). */
  evacuate: (nodeId: string, why: string) => Promise<void>;
}

/**
 * After a restart: deployments not yet placed are placed; those sent to a live node are sent
 * again under the new epoch (the worker ignores the old-epoch copy, and handles a deployment id
 * it already has idempotently), so none is placed twice; those further along keep waiting for
 * their node's status; those on a node known dead are moved.
 */
export async function redrive({ store, logger, term, commands, work, evacuate }: RedriveOptions): Promise<void> {
  for (const deployment of store.deployments.list()) {
    // a stopped one waits for a start from the user, wherever its node is
    if (isTerminalStatus(deployment.status) || isStoppedStatus(deployment.status)) continue;
    if (deployment.nodeId === null) {
      await work.placeAndRequest(deployment, { attempt: deployment.attempt });
      continue;
    }
    const node = store.nodes.get(deployment.nodeId);
    if (node === undefined || node.state === NodeState.Dead) {
      await evacuate(
        deployment.nodeId,
        `${deployment.nodeId} was ${node === undefined ? 'unknown' : 'dead'} when the orchestrator restarted`,
      );
      continue;
    }
    if (
      deployment.status === Status.DelegatingDeployment ||
      deployment.status === Status.DeploymentRequested ||
      deployment.status === Status.UpdateRequested
    ) {
      await work.sendRequest(deployment);
      logger.info('re-sent deploy.request after restart', {
        deploymentId: deployment.id,
        nodeId: deployment.nodeId,
        epoch: term.epoch,
      });
    } else if (deployment.status === Status.DestructionRequested || deployment.status === Status.DelegatingDestruction) {
      await commands.send(
        deployment.nodeId,
        createMessage(
          MessageType.DeployCancel,
          { deploymentId: deployment.id, reason: 're-sent after an orchestrator restart' },
          term.meta(),
        ),
      );
    }
  }
}
