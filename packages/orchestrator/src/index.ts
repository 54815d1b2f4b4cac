// Public surface of @kraken/orchestrator: every export is listed by name.
export { Orchestrator } from './orchestrator.js';
export type {
  OrchestratorCreateOptions,
  CreateDeploymentInput,
  OrchestratorEvents,
  OrchestratorCounters,
} from './orchestrator.js';
export { isStaleStatus } from './status-order.js';
export { compileOrchestratorOptions } from './options.js';
export type { OrchestratorOptions, OrchestratorQueues, CompiledOrchestratorOptions } from './options.js';
export { OrchestratorStore } from './store/orchestrator-store.js';
export type {
  OrchestratorStoreOptions,
  DeploymentPatch,
  StatsUpdate,
} from './store/orchestrator-store.js';
export { LogTable } from './store/log-table.js';
export type { AppendLogsOptions, AppendLogsResult } from './store/log-table.js';
export { migrations } from './store/migrations.js';
export { Releases, ReleaseTrigger } from './releases/releases.js';
export { ReleaseResult, releaseDurationMs } from './releases/release-record.js';
export type { ReleaseRecord } from './releases/release-record.js';
export type { Migration } from './store/migrations.js';
export { NodeState } from './store/records.js';
export type {
  DeploymentRecord,
  NewDeployment,
  StatusChange,
  StatusHistoryEntry,
  NodeRecord,
  StoredLogLine,
  LogCounters,
  PendingStop,
} from './store/records.js';
export { placeDeployment, formatMb } from './scheduling/place-deployment.js';
export type {
  PlacementInput,
  PlacementRequest,
  PlacementDecision,
  SchedulableNode,
  ScheduledDeployment,
} from './scheduling/place-deployment.js';
export { allocatePort, DEFAULT_PORT_RANGE } from './scheduling/ports.js';
export type { PortRange } from './scheduling/ports.js';
export { Liveness, livenessTimings, stateAfterSilence } from './liveness/liveness.js';
export type { BrokerAnswer, LivenessOptions, LivenessTimings, LivenessEvents, NodeTransition } from './liveness/liveness.js';
export { canRun } from './liveness/node-health.js';
export { PulseListener } from './liveness/pulse-listener.js';
export type { PulseListenerOptions } from './liveness/pulse-listener.js';
export { pulseKeyFor } from './liveness/pulse.js';
export { createApiServer } from './api/api-server.js';
export type { ApiServer, ApiServerOptions, ListeningApi } from './api/api-server.js';
export type { PlatformServiceInfo } from './api/context.js';
export type { JoinOptions } from './api/join.js';
export { defaultQueryLimits } from './api/limits.js';
export type { QueryLimits } from './api/limits.js';
export { gitLsRemote } from './git/git-head.js';
export type { ResolveBranchHead, ResolveBranchHeadOptions } from './git/git-head.js';
export { BranchWatcher } from './watch/branch-watcher.js';
export { StatsHistory, DEFAULT_STATS_SAMPLES } from './stats/stats-history.js';
export type { StatsSample } from './stats/stats-history.js';
export type { NodeSample } from './stats/node-history.js';
export type { BranchWatcherOptions, BranchWatcherCounters } from './watch/branch-watcher.js';
export { printKrakenSchema } from './api/schema/build-schema.js';
export { adoptSecrets, loadOrCreateSecrets, SECRETS_FILE, withClusterCa } from './secrets.js';
export { STORE_FILE } from './store/store-file.js';
export type { ClusterSecrets, LoadedSecrets } from './secrets.js';
export { DataKey } from './data-key.js';
export { StatePublisher } from './replication/state-publisher.js';
export type { StatePublisherOptions } from './replication/state-publisher.js';
export { StateFollower } from './replication/state-follower.js';
export type { StateFollowerOptions } from './replication/state-follower.js';
export { STATE_TOPIC, stateQueueOf } from './replication/topics.js';
export type { Changeset } from './store/change-log.js';
export { LeaderLease, LEADERSHIP_QUEUE } from './leadership/leader-lease.js';
export type { LeaderLeaseOptions, LeaderLeaseEvents } from './leadership/leader-lease.js';
export { LeaderBeacon, LEADER_TOPIC } from './leadership/leader-beacon.js';
export { RoutePublisher, ROUTES_TOPIC } from './routes/route-publisher.js';
export type { RoutePublisherOptions } from './routes/route-publisher.js';
export type { LeaderBeaconOptions } from './leadership/leader-beacon.js';
export { LeaderWatch } from './leadership/leader-watch.js';
export type { KnownLeader, LeaderWatchOptions, LeaderWatchEvents } from './leadership/leader-watch.js';
export { NotificationKind } from './notifications/notification.js';
export type { Notification } from './notifications/notification.js';
export type { NotificationFeed } from './notifications/notification-feed.js';
export { WebhookNotifier, shownWebhookUrl } from './notifications/webhook.js';
export type { WebhookOptions, WebhookPayload } from './notifications/webhook.js';
