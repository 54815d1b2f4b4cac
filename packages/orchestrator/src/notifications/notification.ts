import type { DeploymentRecord, NodeRecord } from '../store/records.js';

/** What a notification is about; the webhook's `kind` and the API's. */
export const NotificationKind = {
  /** A deployment ended ERRORED: its build, test or start failed, or it kept crashing. */
  DeployFailed: 'deploy-failed',
  /** The orchestrator moved an app to another node (its node died, or its Docker engine did). */
  AppMoved: 'app-moved',
  /** A node stopped heartbeating and was declared dead. */
  NodeDead: 'node-dead',
} as const;
export type NotificationKind = (typeof NotificationKind)[keyof typeof NotificationKind];

/** One event worth telling a person about, as the UI lists it and the webhook sends it. */
export interface Notification {
  /** Unique; a webhook receiver can drop a delivery it already has by it (retries resend it). */
  id: string;
  kind: NotificationKind;
  /** One sentence a person can act on: what happened, to what, and why. */
  message: string;
  deploymentId?: string;
  /** The node it happened on: the one that died, the one an app failed on, or the one it moved away from. */
  nodeId?: string;
  /** Where a moved app went; absent while it waits for a node that can take it. */
  toNodeId?: string;
  /** ISO-8601, by the orchestrator's clock. */
  at: string;
}

/** A notification before the feed gives it an id and a time. */
export type NotificationDraft = Omit<Notification, 'id' | 'at'>;

function appName(deployment: DeploymentRecord): string {
  return deployment.name === null || deployment.name === deployment.id ? deployment.id : `${deployment.name} (${deployment.id})`;
}

/** A deployment that just went ERRORED; its status message is the reason the worker gave. */
export function deployFailed(deployment: DeploymentRecord): NotificationDraft {
  const where = deployment.nodeId === null ? '' : ` on ${deployment.nodeId}`;
  const reason = deployment.statusMessage ?? 'no reason given';
  return {
    kind: NotificationKind.DeployFailed,
    message: `Deploy of ${appName(deployment)} failed${where}: ${reason}`,
    deploymentId: deployment.id,
    ...(deployment.nodeId === null ? {} : { nodeId: deployment.nodeId }),
  };
}

/** An app placed again away from `fromNodeId`; `deployment` is as the placement left it. */
export function appMoved(deployment: DeploymentRecord, fromNodeId: string, why: string): NotificationDraft {
  const to = deployment.nodeId;
  return {
    kind: NotificationKind.AppMoved,
    message:
      to === null
        ? `${appName(deployment)} left ${fromNodeId} and waits for a node that can run it: ${why}`
        : `${appName(deployment)} moved from ${fromNodeId} to ${to}: ${why}`,
    deploymentId: deployment.id,
    nodeId: fromNodeId,
    ...(to === null ? {} : { toNodeId: to }),
  };
}

/** A node declared dead; `why` says what silence decided it. */
export function nodeDead(node: NodeRecord, why: string): NotificationDraft {
  const name = node.info.hostname === node.id ? node.id : `${node.id} (${node.info.hostname})`;
  return { kind: NotificationKind.NodeDead, message: `Node ${name} is dead: ${why}`, nodeId: node.id };
}
