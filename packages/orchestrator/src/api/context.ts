import type { PubSub } from '@graphql-yoga/subscription';
import type { Logger } from '@kraken/common';
import type { Orchestrator } from '../orchestrator.js';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import type { DeploymentRecord, NodeRecord, StoredLogLine } from '../store/records.js';
import type { Notification } from '../notifications/notification.js';
import type { ResolveBranchHead } from '../git/git-head.js';

/** Topics the orchestrator's events are republished on for GraphQL subscriptions. */
export type ApiTopics = {
  deploymentChanged: [DeploymentRecord];
  nodeChanged: [NodeRecord];
  /** Keyed by deployment id, so a subscriber only wakes for its own log. */
  logLines: [deploymentId: string, lines: StoredLogLine[]];
  notificationRaised: [Notification];
};

/** One per server, shared by every request and subscription: resolvers hold no state. */
/** A part of the platform and whether it works, as getPlatformServices reports it. */
export interface PlatformServiceInfo {
  name: string;
  status: 'up' | 'down';
  detail: string;
}

export interface ApiContext {
  orchestrator: Orchestrator;
  /** Services the host (the agent) runs for the cluster besides the orchestrator and store. */
  platformServices: () => readonly PlatformServiceInfo[];
  store: OrchestratorStore;
  pubSub: PubSub<ApiTopics>;
  resolveBranchHead: ResolveBranchHead;
  logger: Logger;
}
